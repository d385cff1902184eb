// Unit (no server): a gRPC error answer becomes FST_NACOS_SERVER_ERROR with the request named once.
import t from 'tap'
import { toNacosError } from '../../src/transport/nacos-errors.ts'
import { answerError } from '../../src/transport/grpc/errors.ts'

t.test('a Nacos error answer over gRPC: FST_NACOS_SERVER_ERROR, the request named once, Nacos\'s code and message kept', async (t) => {
  const raw = answerError('InstanceRequest', 400, "Param 'namespaceId/tenant' is illegal")
  const err = toNacosError(raw, 'naming register') as Error & { code: string, cause: unknown }
  t.equal(err.code, 'FST_NACOS_SERVER_ERROR')
  t.equal(err.message, "Nacos refused InstanceRequest: error 400: Param 'namespaceId/tenant' is illegal")
  t.equal(err.cause, raw, 'the transport\'s error as the cause')
  t.equal(toNacosError(answerError('InstanceRequest', 500, ''), 'naming register').message, 'Nacos refused InstanceRequest: error 500', 'no message: the code alone')
})

t.test('a refusal for lack of rights stays FST_NACOS_AUTH_FAILED', async (t) => {
  const err = toNacosError(answerError('InstanceRequest', 403, 'authorization failed!'), 'naming register') as Error & { code: string }
  t.equal(err.code, 'FST_NACOS_AUTH_FAILED')
  t.match(err.message, /InstanceRequest.*403.*authorization failed!/)
})
