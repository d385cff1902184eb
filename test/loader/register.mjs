// The suite's TypeScript loader (.taprc: node-arg --import), in place of tap's ts-node one.
// Each test file is a process of its own, and ts-node transpiled src/ again in every one of them
// (about 1.6 s of CPU a process, most of the suite's CPU on a 2-core machine). This loader keeps
// what it transpiled on disk, keyed by the source's hash, so src/ is transpiled once per change.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
