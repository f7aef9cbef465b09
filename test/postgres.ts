// The PostgreSQL server the tests start: the bench's (bench/pgserver.ts), one helper for both.
export { pgBin, PG_PASSWORD, PG_USER, startPostgres, type Postgres } from '../bench/pgserver.js';
