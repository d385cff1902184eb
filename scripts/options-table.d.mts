import type { TObject } from '@sinclair/typebox'

export declare const START: string
export declare const END: string
/** README file → language of its table headers. */
export declare const READMES: Record<string, 'en' | 'zh-CN'>
export declare function renderTable (envSchema: TObject, optionEnv: Record<string, string>, lang?: 'en' | 'zh-CN', optionLabels?: Record<string, string | undefined>): string
export declare function replaceBlock (text: string, table: string): string
