import { expect, test } from 'tstyche'
import { detectIp } from '../src/index.js'

test('detectIp', () => {
  expect(detectIp()).type.toBe<string>()
  expect(detectIp).type.not.toBeCallableWith({ preferredInterfaces: 'eth0' })
})
