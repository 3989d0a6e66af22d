import type { ErrorBody } from '../../errors.js';

/**
 * Exception class names in the style Workfront's API answers errors with
 * (`{"error": {"class": "com.attask.common.AuthenticationException",
 * "message": "..."}}`): 003 shows no error body, and this is the shape its
 * clients already handle. By HTTP status; Ferry's stable code rides along as
 * `code` for clients that want to tell a stale plan from a status gate.
 */
const CLASS_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'com.attask.common.InvalidParameterException',
  401: 'com.attask.common.AuthenticationException',
  403: 'com.attask.common.SecurityException',
  404: 'com.attask.common.NotFoundException',
  409: 'com.attask.common.ConflictException',
  413: 'com.attask.common.PayloadTooLargeException',
  414: 'com.attask.common.InvalidParameterException',
  415: 'com.attask.common.InvalidParameterException',
  423: 'com.attask.common.LockedException',
  503: 'com.attask.common.ServiceUnavailableException',
};

/** Engine messages that name a CLI option, in this face's words (by code). */
const WORDS: Readonly<Record<string, (message: string) => string>> = {
  PUSH_ONE_WAY: (m) => m.replace('use --force', 'send "force": true in the pre-run body'),
};

/** Every error of the promotion face, one shape: `{"error": {"class", "message", "code"}}`. */
export function promotionErrorBody(status: number, e: ErrorBody): { error: { class: string; message: string; code: string } } {
  const cls = CLASS_BY_STATUS[status] ?? (status >= 500 ? 'com.attask.common.InternalException' : 'com.attask.common.InvalidParameterException');
  const message = WORDS[e.code]?.(e.message) ?? e.message;
  return { error: { class: cls, message, code: e.code } };
}
