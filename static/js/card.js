/* The card page: registers the service worker that keeps the card for offline
 * use (/sw.js), says when the page is a copy shown offline, and offers to add
 * the card to the home screen (the browser's install prompt where there is
 * one, a hint on iPhone and iPad, which have none). */
(function () {
  "use strict";

  const page = document.getElementById("card-page");
  if (!page) {
    return;
  }

  function show(id, visible) {
    const element = document.getElementById(id);
    if (element) {
      element.classList.toggle("d-none", !visible);
    }
  }

  // Offline: the page is the copy the service worker kept.
  function onlineChanged() {
    show("card-offline", !navigator.onLine);
  }
  window.addEventListener("online", onlineChanged);
  window.addEventListener("offline", onlineChanged);
  onlineChanged();

  // Add to home screen.
  const standalone =
    window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  let installPrompt = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    show("card-install", true);
  });
  window.addEventListener("appinstalled", () => {
    installPrompt = null;
    show("card-install", false);
  });
  const installButton = document.getElementById("card-install-button");
  if (installButton) {
    installButton.addEventListener("click", async () => {
      if (!installPrompt) {
        return;
      }
      installPrompt.prompt();
      await installPrompt.userChoice;
      installPrompt = null;
      show("card-install", false);
    });
  }
  const apple =
    /iphone|ipad|ipod/i.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  if (apple && !standalone) {
    show("card-install-ios", true);
  }

  // Offline copy.
  if (!("serviceWorker" in navigator)) {
    return;
  }
  // Read before registering: a worker that takes control later did not serve
  // this page, so it must fetch its own copy of the card.
  const servedByWorker = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener("message", (event) => {
    const data = event.data || {};
    if (data.type === "card-kept") {
      page.dataset.offlineReady = data.kept ? "yes" : "no";
      show("card-offline-ready", data.kept);
    }
  });
  const assets = Array.from(
    document.querySelectorAll("link[rel=stylesheet][href], link[rel=icon][href], script[src], img[src]"),
    (element) => element.href || element.src,
  );
  navigator.serviceWorker
    .register(page.dataset.swUrl, { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      registration.active.postMessage({
        type: "card-visited",
        fetchCard: !servedByWorker,
        assets: assets,
      });
    })
    .catch(() => {
      page.dataset.offlineReady = "no";
    });
})();
