import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const RULES_FILE = path.join(ROOT, 'charts/order-service/files/prometheus-rules.yaml');
export const RULE_TESTS_FILE = path.join(__dirname, '../prometheus-rules.test.yml');
export const DASHBOARD_FILE = path.join(ROOT, 'dashboards/order-service.json');
export const CHART_DASHBOARD_FILE = path.join(
  ROOT,
  'charts/order-service/files/dashboards/order-service.json',
);

/** Runs promtool (Debian's `prometheus` package puts it on PATH); output for failure messages. */
export function promtool(...args: string[]): { code: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query?: unknown; [key: string]: unknown }[] };
  panels: Panel[];
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; legendFormat?: string; datasource?: unknown }[];
  panels?: Panel[];
}

/** Every panel with queries, including those inside collapsed rows. */
export function queryPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
}
