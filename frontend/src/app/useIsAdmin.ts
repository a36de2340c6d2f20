// Whether the key is an admin's, for what only an admin may do (pausing an agent): the
// dashboard is not told its key's scopes, so it asks once per client for what only an admin
// key may read (`GET /keys`: 200 for an admin, 403 otherwise). False until known.
import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client';
import { useServices } from './services';

const asked = new WeakMap<ApiClient, Promise<boolean>>();

/** Whether `api`'s key is an admin's (asked once per client). */
export function isAdminKey(api: ApiClient): Promise<boolean> {
  let answer = asked.get(api);
  if (!answer) {
    answer = api.listKeys().then(
      () => true,
      () => false,
    );
    asked.set(api, answer);
  }
  return answer;
}

export function useIsAdmin(): boolean {
  const { api } = useServices();
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    let alive = true;
    void isAdminKey(api).then((yes) => alive && setAdmin(yes));
    return () => {
      alive = false;
    };
  }, [api]);
  return admin;
}
