// When a refused login is tried again (no server): soon while requests are refused too, rarely
// once the server has answered without a token.
import t from 'tap'
import { loginDue, withoutTokenWarning } from '../../src/transport/login-refusal.ts'

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
