import type { Knex } from 'knex';

interface IndexColumn {
  name: string;
  unique: boolean;
  column: string;
  subPart: number | null;
  descending: boolean;
}

/**
 * Runs `work` with the table's secondary indexes dropped, then adds them back as they were
 * (names, columns, prefix lengths, uniqueness, order) in one ALTER: InnoDB builds an index by
 * sorting, where rows arriving in random key order would each touch a random leaf page, and
 * at a million orders those pages no longer fit a 128 MB buffer pool. The indexes are added
 * back whether `work` succeeded or not.
 */
export async function withoutSecondaryIndexes<T>(
  db: Knex,
  table: string,
  work: () => Promise<T>,
): Promise<T> {
  const [rows] = (await db.raw(
    'SELECT INDEX_NAME AS name, NON_UNIQUE AS nonUnique, COLUMN_NAME AS `column`, ' +
      'SUB_PART AS subPart, COLLATION AS collation FROM information_schema.STATISTICS ' +
      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' " +
      "AND INDEX_TYPE = 'BTREE' ORDER BY INDEX_NAME, SEQ_IN_INDEX",
    [table],
  )) as [
    {
      name: string;
      nonUnique: number;
      column: string;
      subPart: number | null;
      collation: string;
    }[],
  ];
  const columns: IndexColumn[] = rows.map((r) => ({
    name: r.name,
    unique: Number(r.nonUnique) === 0,
    column: r.column,
    subPart: r.subPart === null ? null : Number(r.subPart),
    descending: r.collation === 'D',
  }));
  const names = [...new Set(columns.map((c) => c.name))];
  if (names.length === 0) return work();
  await db.raw(`ALTER TABLE ?? ${names.map(() => 'DROP INDEX ??').join(', ')}`, [table, ...names]);
  try {
    return await work();
  } finally {
    const adds = names.map((name) => {
      const parts = columns.filter((c) => c.name === name);
      const list = parts.map(
        (c) =>
          db.raw('??', [c.column]).toString() +
          (c.subPart === null ? '' : `(${c.subPart})`) +
          (c.descending ? ' DESC' : ''),
      );
      const kind = parts[0]!.unique ? 'UNIQUE INDEX' : 'INDEX';
      return `ADD ${kind} ${db.raw('??', [name]).toString()} (${list.join(', ')})`;
    });
    await db.raw(`ALTER TABLE ?? ${adds.join(', ')}`, [table]);
  }
}
