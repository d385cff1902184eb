// The one protobuf message Nacos's gRPC services exchange, encoded and decoded by hand so that
// no .proto file or protobuf runtime ships with the plugin:
//
//   Payload  { Metadata metadata = 2; google.protobuf.Any body = 3 }
//   Metadata { string type = 3; map<string, string> headers = 7; string clientIp = 8 }
//   Any      { string type_url = 1; bytes value = 2 }
//
// `type` is the simple name of the Java request/response class, `body.value` its JSON. A map
// field is a repeated entry message { key = 1; value = 2 }.

export interface Payload {
  type: string
  clientIp?: string
  headers?: Record<string, string>
  /** The JSON body, as bytes. */
  body: Uint8Array
}

const WIRE_VARINT = 0
const WIRE_LEN = 2

class Writer {
  #chunks: Uint8Array[] = []
  #size = 0

  bytes (): Buffer {
    return Buffer.concat(this.#chunks, this.#size)
  }

  #push (chunk: Uint8Array): void {
    this.#chunks.push(chunk)
    this.#size += chunk.length
  }

  varint (value: number): void {
    const out: number[] = []
    let v = value >>> 0
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80)
      v >>>= 7
    }
    out.push(v)
    this.#push(Uint8Array.from(out))
  }

  lengthDelimited (field: number, data: Uint8Array): void {
    this.varint((field << 3) | WIRE_LEN)
    this.varint(data.length)
    this.#push(data)
  }

  string (field: number, value: string | undefined): void {
    if (value === undefined || value === '') return // proto3: the default is not written
    this.lengthDelimited(field, Buffer.from(value, 'utf8'))
  }
}

export function encodePayload (payload: Payload): Buffer {
  const meta = new Writer()
  meta.string(3, payload.type)
  for (const [key, value] of Object.entries(payload.headers ?? {})) {
    const entry = new Writer()
    entry.string(1, key)
    entry.string(2, value)
    meta.lengthDelimited(7, entry.bytes())
  }
  meta.string(8, payload.clientIp)

  const any = new Writer()
  if (payload.body.length > 0) any.lengthDelimited(2, payload.body)

  const out = new Writer()
  out.lengthDelimited(2, meta.bytes())
  out.lengthDelimited(3, any.bytes())
  return out.bytes()
}

class Reader {
  pos = 0
  constructor (readonly buf: Uint8Array) {}

  get done (): boolean {
    return this.pos >= this.buf.length
  }

  varint (): number {
    let result = 0
    let shift = 0
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint')
      const byte = this.buf[this.pos++] as number
      if (shift < 28) result |= (byte & 0x7f) << shift
      else result += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return result < 0 ? result >>> 0 : result
      shift += 7
      if (shift > 63) throw new Error('varint too long')
    }
  }

  lengthDelimited (): Uint8Array {
    const len = this.varint()
    const end = this.pos + len
    if (end > this.buf.length) throw new Error('truncated field')
    const data = this.buf.subarray(this.pos, end)
    this.pos = end
    return data
  }

  skip (wire: number): void {
    if (wire === WIRE_VARINT) this.varint()
    else if (wire === WIRE_LEN) this.lengthDelimited()
    else if (wire === 1) this.pos += 8
    else if (wire === 5) this.pos += 4
    else throw new Error(`unsupported wire type ${wire}`)
    if (this.pos > this.buf.length) throw new Error('truncated field')
  }

  /** Iterates the fields of a message: calls `on` with the field number and wire type. */
  fields (on: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const tag = this.varint()
      const field = tag >>> 3
      const wire = tag & 7
      if (!on(field, wire)) this.skip(wire)
    }
  }
}

const utf8 = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8')

export function decodePayload (buf: Uint8Array): Payload {
  const out: Payload = { type: '', headers: {}, body: new Uint8Array(0) }
  const top = new Reader(buf)
  top.fields((field, wire) => {
    if (wire !== WIRE_LEN) return false
    if (field === 2) {
      const meta = new Reader(top.lengthDelimited())
      meta.fields((f, w) => {
        if (w !== WIRE_LEN) return false
        if (f === 3) {
          out.type = utf8(meta.lengthDelimited())
          return true
        }
        if (f === 8) {
          out.clientIp = utf8(meta.lengthDelimited())
          return true
        }
        if (f === 7) {
          const entry = new Reader(meta.lengthDelimited())
          let key = ''
          let value = ''
          entry.fields((ef, ew) => {
            if (ew !== WIRE_LEN) return false
            if (ef === 1) key = utf8(entry.lengthDelimited())
            else if (ef === 2) value = utf8(entry.lengthDelimited())
            else return false
            return true
          })
          ;(out.headers as Record<string, string>)[key] = value
          return true
        }
        return false
      })
      return true
    }
    if (field === 3) {
      const any = new Reader(top.lengthDelimited())
      any.fields((f, w) => {
        if (w === WIRE_LEN && f === 2) {
          out.body = any.lengthDelimited()
          return true
        }
        return false
      })
      return true
    }
    return false
  })
  return out
}

/** A request or response as Nacos's Java classes serialise it: a JSON object. */
export type Json = Record<string, unknown>

export function jsonPayload (type: string, body: Json, headers?: Record<string, string>, clientIp?: string): Payload {
  return { type, body: Buffer.from(JSON.stringify(body), 'utf8'), ...(headers ? { headers } : {}), ...(clientIp ? { clientIp } : {}) }
}

export function parseBody (payload: Payload): Json {
  if (payload.body.length === 0) return {}
  const value: unknown = JSON.parse(utf8(payload.body))
  return value !== null && typeof value === 'object' ? value as Json : {}
}
