// When a refused login is tried again (no server): soon while requests are refused too, rarely
// once the server has answered without a token.
import t from 'tap'
import { loginAnswerReason, loginDue, withoutTokenWarning } from '../../src/transport/login-refusal.ts'

t.test('a refused login is tried again after 5 s, or 60 s once the server answered without a token', async (t) => {
  const err = new Error('Nacos login as "ghost" failed: 127.0.0.1:8848 answered 500 (User ghost not found)')
  t.ok(loginDue(undefined, 0), 'no refusal: log in')
  t.notOk(loginDue({ err, at: 1000, announced: false }, 5999))
  t.ok(loginDue({ err, at: 1000, announced: false }, 6000))
  t.notOk(loginDue({ err, at: 1000, announced: true }, 60_999))
  t.ok(loginDue({ err, at: 1000, announced: true }, 61_000))
  t.equal(withoutTokenWarning({ err, at: 0, announced: false }),
    'Nacos login as "ghost" failed: 127.0.0.1:8848 answered 500 (User ghost not found); the server answers without a token (auth disabled): going on without one')
})

t.test('a login answered 403 or 500 (Nacos 3.0.3: 500 "No message available" for a wrong password) says it was refused', async (t) => {
  t.equal(loginAnswerReason(500, 'No message available'), 'refused the login (wrong username or password?): answered 500 (No message available)')
  t.equal(loginAnswerReason(403, 'user not found!'), 'refused the login (wrong username or password?): answered 403 (user not found!)')
  t.equal(loginAnswerReason(502, ''), 'answered 502', 'another status is only quoted')
})
