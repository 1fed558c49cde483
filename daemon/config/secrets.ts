// Secrets never reach a log line, an error or printed settings: a password written into a URL
// (mqtt.url may be mqtt://user:password@host) is shown as ***.

const USERINFO_PASSWORD = /\/\/([^/@:\s"']*):[^/@\s"']*@/g;

/** The text with the password of every URL in it masked. */
export function maskUrlPassword(text: string): string {
  return text.replace(USERINFO_PASSWORD, '//$1:***@');
}
