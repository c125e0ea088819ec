import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'exercise-cache:public';

/** Opens a route that the deny-by-default API-key guard would otherwise protect (a page, a probe). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
