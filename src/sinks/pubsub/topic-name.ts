import { ConfigurationError } from '../../errors.js';

/**
 * Project ids: 6–30 characters, lowercase letters, digits and hyphens, starting with a letter
 * and not ending with a hyphen; legacy domain-scoped ids carry a `domain:` prefix. Topic ids:
 * 3–255 characters of letters, digits and `-_.~+%`, starting with a letter, not `goog…`.
 */
const TOPIC_NAME = /^projects\/((?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9])\/topics\/([A-Za-z][A-Za-z0-9._~+%-]{2,254})$/;

export interface TopicName {
  /** `projects/P/topics/T`, as given. */
  name: string;
  project: string;
  topicId: string;
}

/** Parses `projects/P/topics/T`; anything else is a configuration error naming the value. */
export function parseTopicName(value: string): TopicName {
  const m = TOPIC_NAME.exec(value);
  if (!m || m[2]!.toLowerCase().startsWith('goog')) {
    throw new ConfigurationError(
      'INVALID_TOPIC',
      `invalid Pub/Sub topic "${value}": expected projects/PROJECT_ID/topics/TOPIC_ID ` +
        '(project id 6–30 lowercase letters, digits or hyphens; topic id 3–255 characters starting with a letter, not "goog")',
    );
  }
  return { name: value, project: m[1]!, topicId: m[2]! };
}
