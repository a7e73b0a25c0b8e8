export function sha1(text: string): string;
export function redisCompatibleScript(script: string): string;
export class ScriptShas {
  forRedis(script: string): { script: string; clientSha: string | null };
  redisSha(sha: string): string;
}
