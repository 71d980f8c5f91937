/** `.ci/run` starts Debian's redis-server on 127.0.0.1:6379; REDIS_URL points elsewhere. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export { PrivateRedis } from "../../../scripts/privateRedis.ts";
