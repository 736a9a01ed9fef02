/* "Turn on notifications" (templates/members/_push_optin.html): subscribes
 * this browser to web push with the program's VAPID public key and hands the
 * subscription to the portal (POST, CSRF token in a header); "Turn off" drops
 * it from the browser and from the portal. The service worker (/sw.js) shows
 * the notifications. Hidden where the browser has no push (old browsers,
 * iPhone Safari outside an installed app). */
(function () {
  "use strict";

  const box = document.getElementById("push-optin");
  if (!box) {
    return;
  }
  if (
    !box.dataset.vapidKey ||
    !("serviceWorker" in navigator) ||
    !("PushManager" in window) ||
    !("Notification" in window)
  ) {
    box.dataset.state = "unsupported";
    return;
  }

  const STATUSES = ["on", "off", "denied", "failed"];

  function element(id) {
    return document.getElementById(id);
  }

  function show(id, visible) {
    const found = element(id);
    if (found) {
      found.classList.toggle("d-none", !visible);
    }
  }

  function status(name) {
    STATUSES.forEach((each) => show("push-status-" + each, each === name));
  }

  function subscribed(on) {
    show("push-on", !on);
    show("push-off", on);
  }

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+")
      .replace(/_/g, "/");
    const raw = window.atob(padded);
    return Uint8Array.from(raw, (character) => character.charCodeAt(0));
  }

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(data),
    });
    if (!response.ok) {
      throw new Error("the portal answered " + response.status);
    }
    return response.json();
  }

  const ready = navigator.serviceWorker
    .register(box.dataset.swUrl, { scope: "/" })
    .then(() => navigator.serviceWorker.ready);

  async function turnOn() {
    box.dataset.state = "asking";
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      box.dataset.state = "denied";
      status("denied");
      return;
    }
    box.dataset.state = "subscribing";
    try {
      const registration = await ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(box.dataset.vapidKey),
      });
      box.dataset.state = "saving";
      const offers = element("push-offers");
      const answer = await post(box.dataset.subscribeUrl, {
        ...subscription.toJSON(),
        offers: Boolean(offers && offers.checked),
      });
      if (answer.offers) {
        if (offers) {
          offers.checked = true;
          offers.disabled = true;
        }
        // The preferences form below says the same, or saving it would
        // withdraw the consent just given.
        const formConsent = element("id_push");
        if (formConsent) {
          formConsent.checked = true;
        }
      }
      box.dataset.state = "on";
      subscribed(true);
      status("on");
    } catch (error) {
      box.dataset.state = "failed";
      box.dataset.error = String(error && error.message ? error.message : error);
      status("failed");
    }
  }

  async function turnOff() {
    box.dataset.state = "unsubscribing";
    try {
      const registration = await ready;
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await post(box.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      box.dataset.state = "off";
      subscribed(false);
      status("off");
    } catch (error) {
      box.dataset.state = "failed";
      box.dataset.error = String(error && error.message ? error.message : error);
      status("failed");
    }
  }

  element("push-on").addEventListener("click", turnOn);
  element("push-off").addEventListener("click", turnOff);
  box.classList.remove("d-none");
  if (Notification.permission === "denied") {
    status("denied");
  }
  ready
    .then((registration) => registration.pushManager.getSubscription())
    .then((subscription) => {
      if (box.dataset.state === "idle") {
        subscribed(Boolean(subscription));
        box.dataset.state = subscription ? "on" : "off";
      }
    })
    .catch(() => {
      if (box.dataset.state === "idle") {
        box.dataset.state = "off";
      }
    });
})();
