/** The two databases the server runs on (DESIGN §1.3): SQLite embedded, PostgreSQL to scale out. */
export type DialectName = 'sqlite' | 'postgres';
