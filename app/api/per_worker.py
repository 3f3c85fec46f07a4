"""What each API worker process keeps for its whole life: the heartbeat batcher, answer caches, rate limiters, the
service clients' status, the OpenID providers' metadata and keys, and the SMS sender.

Built once with the app (`create_app`, so once per worker) and closed by the app's lifespan: the heartbeat
batcher writes or answers every heartbeat in flight before the database is closed. Routers reach them through
`request.app.state.per_worker`; none is created lazily on first use.
"""

from dataclasses import dataclass

from app.core.cache import SharedPages, StatsCache
from app.core.config import Settings
from app.core.db import Database
from app.core.ratelimit import RateLimits, build_storage
from app.services.identity.access import ClientStatus
from app.services.identity.oidc import Providers
from app.services.identity.sms import SmsSender, build_sms_sender
from app.services.learning.heartbeat_batch import HeartbeatBatcher
from app.services.stats import feed
from app.services.video import links as video_links


@dataclass
class PerWorker:
    heartbeats: HeartbeatBatcher
    stats: StatsCache  # rendered stats answers, per request as sent and caller scope
    catalogue: StatsCache  # rendered catalogue pages and their ETags
    feed_pages: SharedPages  # completion feed pages shared by identical requests
    rate_limits: RateLimits  # per-address limits: in Redis with HOCSO_REDIS_URL (shared), else this worker's
    client_status: ClientStatus  # whether each service client is active, re-read every few seconds
    oidc: Providers  # OpenID providers' metadata and keys, fetched on first use, and one HTTP client
    sms: SmsSender  # carries phone one-time codes
    playlists: StatsCache  # signed HLS rendition playlists, shared by every enrolled learner

    @classmethod
    def build(cls, settings: Settings, db: Database) -> "PerWorker":
        return cls(heartbeats=HeartbeatBatcher(db),
                   stats=StatsCache(settings.stats_cache_ttl_s),
                   catalogue=StatsCache(settings.catalogue_cache_ttl_s),
                   feed_pages=SharedPages(feed.SHARED_PAGE_TTL_S, max_entries=feed.SHARED_PAGES),
                   rate_limits=RateLimits(build_storage(settings.redis_url)), client_status=ClientStatus(),
                   oidc=Providers(settings), sms=build_sms_sender(settings),
                   playlists=StatsCache(video_links.PLAYLIST_CACHE_S,
                                        max_entries=video_links.PLAYLIST_CACHE_ENTRIES))

    async def close(self) -> None:
        await self.heartbeats.drain()
        await self.oidc.close()
        await self.sms.close()
        await self.rate_limits.close()
