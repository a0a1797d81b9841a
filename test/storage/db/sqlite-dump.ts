import BetterSqlite3 from 'better-sqlite3';

/** Every row of every table, read-only, as JSON text: compare before and after a command. */
export function dumpSqlite(file: string): string {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    return tables
      .map(
        ({ name }) =>
          `${name}\n${JSON.stringify(db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all())}`,
      )
      .join('\n');
  } finally {
    db.close();
  }
}
