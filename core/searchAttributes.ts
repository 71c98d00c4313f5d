/**
 * The custom search attributes that make hours and backfills findable in the Web UI's list
 * (e.g. `ClickstreamHour = "2024-03-01T07" AND ClickstreamStatus = "failed"`). Pure definitions:
 * workflows upsert them; client/searchAttributes.ts registers them on the namespace.
 */
import { defineSearchAttributeKey } from '@temporalio/common';

export const SA_HOUR = defineSearchAttributeKey('ClickstreamHour', 'KEYWORD');
export const SA_KIND = defineSearchAttributeKey('ClickstreamKind', 'KEYWORD');
export const SA_STATUS = defineSearchAttributeKey('ClickstreamStatus', 'KEYWORD');
export const SA_TABLE = defineSearchAttributeKey('ClickstreamTable', 'KEYWORD');

/** name -> type, as `temporal server start-dev --search-attribute name=type` wants them. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  ClickstreamHour: 'Keyword',
  ClickstreamKind: 'Keyword',
  ClickstreamStatus: 'Keyword',
  ClickstreamTable: 'Keyword',
};
