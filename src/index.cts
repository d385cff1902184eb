// The CommonJS entry, `require('fastify-nacos')`: Node 20.19+ loads the ES module from require().
// It gives what the @fastify/* plugins give a CommonJS app: the plugin itself, with `default` and
// every named export on it (`const nacos = require('fastify-nacos')`, `nacos.SettingError`).
// TypeScript reads the ES module's types for both entries (package.json `exports`).
import esm = require('./index.js')

type CommonJsEntry = typeof esm.default & Omit<typeof esm, 'default'> & { default: typeof esm.default }
const { default: plugin, ...named } = esm
// require(esm) marks the namespace `__esModule`; the @fastify/* plugins give no such mark.
delete (named as { __esModule?: unknown }).__esModule
const entry: CommonJsEntry = Object.assign(plugin, named, { default: plugin })
export = entry
