import { DataSourcePlugin } from '@grafana/data';

import { DataSource } from './datasource';
import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { ModelLensOptions, ModelLensQuery, ModelLensSecureOptions } from './types';

export const plugin = new DataSourcePlugin<DataSource, ModelLensQuery, ModelLensOptions, ModelLensSecureOptions>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
