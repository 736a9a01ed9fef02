/* The installable card's service worker, served at /sw.js by
 * loyalty_site.views.app with `const CONFIG = {...}` written in front of it
 * (cardPath, logoutPath, assetPrefixes).
 *
 * It keeps one page: the member's card (QR, number, last balance and when it
 * was read), network first with the last copy as the fallback, so the card
 * opens at the till without a connection after one visit. The files that page
 * uses (styles, script, icons) are kept beside it. No other page is kept; a
 * logout, or a card request that is answered with a redirect (logged out) or
 * a refusal, forgets the copy.
 *
 * It also shows the program's web push notifications (campaigns.messaging.
 * backends.push sends `{title, body, url, tag}`): a click opens `url`, the
 * message's tracked link, so the click is counted.
 */
/* global CONFIG */
"use strict";

const CARD_CACHE = "loyalty-card-v1";
const ASSET_CACHE = "loyalty-card-assets-v1";
const OUR_CACHES = [CARD_CACHE, ASSET_CACHE];

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("loyalty-card") && !OUR_CACHES.includes(name))
          .map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

function isAsset(url) {
  return CONFIG.assetPrefixes.some((prefix) => url.pathname.startsWith(prefix));
}

/* Keep `response` as the card when it is the card; forget the copy when the
 * server says the visitor may not see it (logged out: a redirect to the login
 * page; no membership: 403). */
async function cardKeep(response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    const cache = await caches.open(CARD_CACHE);
    await cache.put(CONFIG.cardPath, response.clone());
    return true;
  }
  if (response.type === "opaqueredirect" || response.redirected || response.status === 403) {
    await caches.delete(CARD_CACHE);
  }
  return false;
}

async function cardCopy() {
  const cache = await caches.open(CARD_CACHE);
  return cache.match(CONFIG.cardPath, { ignoreSearch: true, ignoreVary: true });
}

async function cardNetworkFirst(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const copy = await cardCopy();
    if (copy) {
      return copy;
    }
    throw error;
  }
  await cardKeep(response);
  return response;
}

async function assetNetworkFirst(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(ASSET_CACHE);
    const copy = await cache.match(request, { ignoreVary: true });
    if (copy) {
      return copy;
    }
    throw error;
  }
}

/* The card page's files: fetched now and kept; older versions dropped. */
async function assetsKeep(urls) {
  const wanted = urls
    .map((href) => new URL(href, self.location.href))
    .filter((url) => sameOrigin(url) && isAsset(url))
    .map((url) => url.href);
  const cache = await caches.open(ASSET_CACHE);
  await Promise.all(
    wanted.map(async (href) => {
      try {
        const response = await fetch(href, { credentials: "same-origin" });
        if (response.ok) {
          await cache.put(href, response);
        }
      } catch (error) {
        // Offline now: the copy kept earlier stays.
      }
    }),
  );
  for (const request of await cache.keys()) {
    if (!wanted.includes(request.url)) {
      await cache.delete(request);
    }
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (!sameOrigin(url)) {
    return;
  }
  if (request.method === "POST" && url.pathname === CONFIG.logoutPath) {
    // The browser sends the logout itself; the card copy goes with it.
    event.waitUntil(caches.delete(CARD_CACHE));
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate" && url.pathname === CONFIG.cardPath) {
    event.respondWith(cardNetworkFirst(request));
  } else if (request.mode !== "navigate" && isAsset(url)) {
    event.respondWith(assetNetworkFirst(request));
  }
});

/* The card page says it was shown, with the files it uses. When it was not
 * served through this worker (the first visit, before the worker ran), the
 * worker fetches its own copy of the card. It answers "card-kept". */
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "card-visited") {
    return;
  }
  event.waitUntil(
    (async () => {
      let kept = true;
      if (data.fetchCard) {
        try {
          const response = await fetch(CONFIG.cardPath, {
            credentials: "same-origin",
            redirect: "manual",
          });
          kept = await cardKeep(response);
        } catch (error) {
          kept = false;
        }
      } else {
        kept = Boolean(await cardCopy());
      }
      await assetsKeep(data.assets || []);
      if (event.source) {
        event.source.postMessage({ type: "card-kept", kept });
      }
    })(),
  );
});

/* Web push: one notification per message; the same tag replaces an earlier
 * one of the same purpose. A payload that is not our JSON is shown as text. */
self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  const options = {
    body: data.body || "",
    icon: CONFIG.iconUrl,
    badge: CONFIG.iconUrl,
    data: { url: data.url || CONFIG.cardPath },
  };
  if (data.tag) {
    options.tag = data.tag;
  }
  event.waitUntil(self.registration.showNotification(data.title || CONFIG.programName, options));
});

/* A click opens the message's link (through click tracking) in a new window
 * or tab; the notification closes. */
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || CONFIG.cardPath;
  event.waitUntil(self.clients.openWindow(target));
});
