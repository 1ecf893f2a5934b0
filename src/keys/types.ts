/** An API key as the admin sees it: never its token, which only its creation shows. */
export interface KeyView {
  id: string;
  name: string;
  maxActiveJobs: number;
  maxConcurrency: number;
  createdAt: string;
}

/** The answer to POST /v1/keys: the key and, this once, its token. */
export interface NewKey extends KeyView {
  token: string;
}

/** What a request may do, by the token it presented. */
export interface Caller {
  /** Whose jobs and schedules these are: "admin" or a key id. */
  owner: string;
  admin: boolean;
  maxActiveJobs: number;
  maxConcurrency: number;
}

/** The owner of everything the admin token creates. */
export const ADMIN_OWNER = 'admin';
