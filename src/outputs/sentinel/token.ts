// Bearer tokens for the Logs Ingestion API: Entra ID's client credentials grant (a form POST of
// the app's id and secret and the scope to the tenant's token endpoint), kept until shortly
// before it expires. A refused grant (400/401: a wrong secret, an unknown app) is permanent: the
// request's events are counted as rejected with Entra's message. No answer, 429 or 5xx is retried.
import { classify, excerpt, HttpError, retryAfterMs, shown, type HttpAuth, type HttpClient } from '../sink/http.js';

export interface Credentials {
  url: URL; // the token endpoint
  clientId: string;
  clientSecret: string;
  scope: string;
}

export class ClientCredentials implements HttpAuth {
  private token: { value: string; until: number } | null = null;
  private fresh = false; // the token of the last request was fetched for it

  constructor(
    private readonly client: HttpClient,
    private readonly c: Credentials,
  ) {}

  async header(): Promise<string> {
    if (this.token && Date.now() < this.token.until) {
      this.fresh = false;
    } else {
      this.token = await this.fetch();
      this.fresh = true;
    }
    return `Bearer ${this.token.value}`;
  }

  stale(): boolean {
    if (this.fresh || !this.token) return false;
    this.token = null; // revoked or expired early: fetch a new one
    return true;
  }

  private async fetch(): Promise<{ value: string; until: number }> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.c.clientId, client_secret: this.c.clientSecret, scope: this.c.scope });
    const reply = await this.client.post(this.c.url, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, Buffer.from(form.toString()));
    const verdict = classify(reply.status);
    const where = `token endpoint ${shown(this.c.url)}`;
    if (verdict !== 'ok') {
      const hint = verdict === 'refuse' ? ' (check --sentinelOutputTenantId, --sentinelOutputClientId and --sentinelOutputClientSecret)' : '';
      throw new HttpError(`${where} answered ${reply.status}: ${excerpt(reply.body)}${hint}`, verdict === 'retry', retryAfterMs(reply.headers['retry-after']));
    }
    let doc: { access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(reply.body) as typeof doc;
    } catch {
      doc = {};
    }
    const seconds = Number(doc.expires_in);
    if (typeof doc.access_token !== 'string' || doc.access_token === '' || !(seconds > 0)) {
      throw new HttpError(`${where} answered ${reply.status} without access_token and expires_in: ${excerpt(reply.body)}`, true);
    }
    // renewed 5 minutes before it expires (half its life when shorter)
    return { value: doc.access_token, until: Date.now() + (seconds - Math.min(300, seconds / 2)) * 1000 };
  }
}
