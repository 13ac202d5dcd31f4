import { connectionFromUrl, createDb, ensureDatabase } from '../../src/data-access/db';
import { loadConfig } from '../../src/config';
import { dropDatabase, MYSQL_URL, uniqueName } from '../helpers/harness';

/* DATABASE_URL is read one way everywhere: the database name percent-decoded. */
describe('a percent-encoded database name', () => {
  const name = `${uniqueName('enc')}-x`;
  const url = `${MYSQL_URL}/${name.replace('-', '%2D')}`;
  afterAll(async () => dropDatabase(`${MYSQL_URL}/${name}`));

  it('is created under the name the pool then connects to', async () => {
    await ensureDatabase(url);
    const db = createDb(url, { min: 0, max: 1 });
    try {
      const [rows] = await db.raw('SELECT DATABASE() AS name');
      expect(rows[0].name).toBe(name);
    } finally {
      await db.destroy();
    }
  });

  it('is the same name in the config and in the connection options', () => {
    const config = loadConfig('migrate', { DATABASE_URL: url });
    expect(config.database.name).toBe(name);
    expect(connectionFromUrl(url).database).toBe(name);
  });
});
