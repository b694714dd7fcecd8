export { buildNotification, type NotificationDeps, type NotificationHandle } from './app.ts';
export { loadConfig, type NotificationConfig } from './config.ts';
