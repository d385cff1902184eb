// What both transports do when every server refuses our login, as the Java client does: requests
// go on without a token, which a server without auth answers (the app works, a warning says the
// login failed and why, once); a server that wants a token refuses them, and the login's refusal
// is the error to act on.

/**
 * Where both transports log in: the v3 path first (Nacos 3; its v1 path is part of the client API
 * 3.2 removed), the v1 path only when the v3 one answers 404 or 501 (2.x), as the Java client's
 * HttpLoginProcessor does.
 */
export const LOGIN_PATHS = { v3: '/v3/auth/user/login', v1: '/v1/auth/login' } as const

export interface Refusal<E extends Error = Error> {
  err: E
  at: number
  /** A request was answered without a token, and that was said. */
  announced: boolean
}

/**
 * How long requests go without a token before the login is tried again: soon while the server
 * refuses them too (it may be starting, or the user about to be created), rarely once it has
 * answered without one (auth disabled).
 */
const RELOGIN_AFTER_MS = { refused: 5000, answered: 60_000 }

/** Whether to log in (again) now, given the last refusal. */
export function loginDue (refusal: Refusal | undefined, now = Date.now()): boolean {
  return refusal === undefined || now - refusal.at >= RELOGIN_AFTER_MS[refusal.announced ? 'answered' : 'refused']
}

/** The warning, said once, when a request went through without a token after a refused login. */
export function withoutTokenWarning (refusal: Refusal): string {
  return `${refusal.err.message}; the server answers without a token (auth disabled): going on without one`
}

/**
 * The reason a login answered `status` failed, in words. Nacos refuses credentials with 403, or
 * with 500: 3.0.3 answers a wrong password of an existing user 500 "No message available", 2.x an
 * unknown user 500 "User … not found". The server's text never contains the password.
 */
export function loginAnswerReason (status: number, text: string): string {
  const answer = `answered ${status}${text ? ` (${text.slice(0, 200)})` : ''}`
  return status === 401 || status === 403 || status === 500 ? `refused the login (wrong username or password?): ${answer}` : answer
}
