import { Transform } from 'class-transformer';

/** "a,b" and repeated ?x=a&x=b both become ["a", "b"]; an empty value is an empty list. */
export const ToList = () =>
  Transform(({ value }) => {
    if (value === undefined) return undefined;
    const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]));
    return parts.filter((part) => part !== '');
  });

/** Only plain decimal integers become numbers; "1.5", "0x3" or "3abc" stay strings and fail @IsInt. */
export const ToInt = () =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value) : value));
