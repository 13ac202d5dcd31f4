import type { Scenario } from '../scenario';
import { apiKill } from './api-kill';
import { galeraMultiWriter } from './galera-multi-writer';
import { galeraNodeKill } from './galera-node-kill';
import { galeraQuorumLoss } from './galera-quorum-loss';
import { galeraWriterKill } from './galera-writer-kill';
import { mysqlPause } from './mysql-pause';
import { mysqlRestart } from './mysql-restart';
import { redisPause } from './redis-pause';
import { redisRestart } from './redis-restart';
import { rollingUpdate } from './rolling-update';
import { workerKill } from './worker-kill';

/** In the order; the Galera ones last, so one cluster serves them all. */
export const SCENARIOS: Scenario[] = [
  workerKill,
  apiKill,
  rollingUpdate,
  redisRestart,
  redisPause,
  mysqlPause,
  mysqlRestart,
  galeraNodeKill,
  galeraWriterKill,
  galeraMultiWriter,
  galeraQuorumLoss,
];
