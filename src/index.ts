export { detectIp, inNetwork, isIPv4, type InterfaceTable, type IpPreferences } from './ip.js'
