/**
 * Who is calling. The tenant always comes from here (bound to the credential), never from a request field.
 * `PrincipalByAuth` maps each route's `auth` kind to the principal its handler receives.
 */
export interface AdminPrincipal {
  kind: 'admin';
}

export interface LayerKeyPrincipal {
  kind: 'layer-key';
  keyId: string;
  keyHash: string;
  workspaceId: string;
  env: 'live' | 'test';
  rateLimitRpm: number;
}

export interface PrincipalByAuth {
  none: undefined;
  admin: AdminPrincipal;
  layer: LayerKeyPrincipal;
}

/** How a principal is rate limited: its bucket family and the limits of each class. */
export interface RatePolicy {
  credentialId: string;
  rpm: number;
  /** Extra limit for write-heavy routes; absent = writes share the general bucket only. */
  writeRpm?: number;
}

export interface Authenticated<P> {
  principal: P;
  rate?: RatePolicy;
}
