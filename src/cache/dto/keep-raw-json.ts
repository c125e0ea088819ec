import { Transform } from 'class-transformer';

/**
 * Keeps a free-form JSON value exactly as parsed. class-transformer would copy it key by key and
 * silently drop keys named like Object.prototype's methods ("toString", "valueOf", ...): an
 * exercise must come back exactly as it was stored.
 */
export const KeepRawJson = () => Transform(({ obj, key }) => (obj as Record<string, unknown>)[key], { toClassOnly: true });
