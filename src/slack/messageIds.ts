/**
 * The id under which a Slack message is known to the chat, one per team,
 * channel and ts: a message mirrored from Slack (the Events API side), and
 * a post of ours, recorded so that Slack's echo of it is not appended again
 * (the outbox side).
 */
export function slackMessageId(team: string, channel: string, ts: string): string {
  return `slack:${team}:${channel}:${ts}`;
}
