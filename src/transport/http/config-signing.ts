// AK/SK signing of config requests (Alibaba Cloud MSE), as the nacos SDK's own config agent
// (nacos-config's http_agent) signed them before our HTTP client replaced it: the access key, the
// request's timestamp, and an HMAC-SHA1 with the secret key over the config's resource and that
// timestamp. Naming requests are signed by the SDK's naming client, which still does it.
import { createHmac } from 'node:crypto'

/** What the signature covers: `tenant+group`, else the group, else the tenant (the SDK's rule, undefined included). */
function resource (data: Readonly<Record<string, unknown>>): string {
  const { tenant, group } = data as { tenant?: string, group?: string }
  if (group && tenant) return `${tenant}+${group}`
  if (group) return group
  return String(tenant)
}

/** The headers of one signed config request sent at `timestamp` (ms since the epoch, as text). */
export function configSignHeaders (data: Readonly<Record<string, unknown>>, accessKey: string, secretKey: string, timestamp: string): Record<string, string> {
  const signature = createHmac('sha1', secretKey).update(`${resource(data)}+${timestamp}`).digest('base64')
  return { 'Spas-AccessKey': accessKey, timeStamp: timestamp, 'Spas-Signature': signature }
}
