// Where the API key lives for this browser tab (sessionStorage), and its expected format.

const STORAGE_KEY = 'cadre.apiKey';
export const KEY_PREFIX = 'sk-orch-';
/** SPEC §5: keys are at least this long in all. */
export const KEY_MIN_LENGTH = 32;

export function loadKey(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  window.sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearKey(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}

/** Why a typed key cannot be right, or null when it looks fine. */
export function keyProblem(key: string): string | null {
  if (!key.startsWith(KEY_PREFIX)) return `An API key starts with ${KEY_PREFIX}`;
  if (key.length < KEY_MIN_LENGTH) return `An API key has at least ${KEY_MIN_LENGTH} characters`;
  return null;
}
