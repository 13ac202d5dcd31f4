// Validates Kubernetes objects against the kubernetes-models JSON schemas.
// The model packages are ESM-only (exports has just an "import" condition), which jest's CJS
// runtime cannot load, so chart tests run this file with plain `node` instead.
// stdin: JSON array of objects. stdout: JSON array of {kind, name, status, error?}.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';

// apiVersion group -> package; a missing optional package yields status "no-model".
const packages = {
  '': 'kubernetes-models',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'keda.sh': '@kubernetes-models/keda',
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'cert-manager.io': '@kubernetes-models/cert-manager',
};

// No package ships NGINX Gateway Fabric models: its kinds are checked against the JSON schemas
// hand-written from the NGF API reference, in ../schemas/<group>/<Kind>.json.
const schemaGroups = ['gateway.nginx.org'];
// strict catches unknown keywords and typos in the schemas; strictRequired would also refuse the
// "required" inside not/if/then that the API's cross-field rules need.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });

function schemaFor(group, kind) {
  const file = fileURLToPath(new URL(`../schemas/${group}/${kind}.json`, import.meta.url));
  if (!existsSync(file)) return undefined;
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  const validate = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
  return class {
    constructor(obj) {
      this.obj = obj;
    }
    validate() {
      if (!validate(this.obj)) throw new Error(ajv.errorsText(validate.errors));
    }
  };
}

async function modelFor({ apiVersion, kind }) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (schemaGroups.includes(group)) return schemaFor(group, kind);
  const pkg = packages[group] ?? packages[''];
  const path = group === '' ? `${pkg}/${version}` : `${pkg}/${group}/${version}`;
  try {
    return (await import(path))[kind];
  } catch (error) {
    if (error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')
      return undefined;
    throw error;
  }
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const obj of objects) {
  const Model = await modelFor(obj);
  const result = { kind: obj.kind, name: obj.metadata?.name };
  if (!Model) {
    results.push({ ...result, status: 'no-model' });
    continue;
  }
  try {
    new Model(obj).validate();
    results.push({ ...result, status: 'valid' });
  } catch (error) {
    results.push({ ...result, status: 'invalid', error: String(error.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
