// The payment kiosk (public): look up a bill's payment reference (typed, or scanned from the
// bill's QR code by the kiosk's reader, or given as ?ref=), see the holder's initials, balance
// and last bill, pay by card through the configured card gateway. No personal data is shown.
(function () {
  "use strict";
  const configNode = document.getElementById("kiosk-config");
  if (!configNode) return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const shell = document.querySelector(".kiosk-shell");
  const $ = function (id) { return document.getElementById(id); };
  let reference = null;

  const format = CaudalPage.format;
  function alertBox(text) {
    $("kiosk-alert").hidden = !text;
    $("kiosk-alert-message").textContent = text || "";
  }
  async function call(address, body) {
    const answer = await CaudalPage.request("POST", address, body);
    if (!answer.ok) {
      alertBox(answer.status === 0 ? msg.networkError
        : CaudalPage.refusalText(answer, msg.serverError));
      return null;
    }
    alertBox(null);
    return answer.data;
  }
  function draw(data) {
    reference = data.reference;
    $("kiosk-account-panel").hidden = false;
    $("kiosk-initials").textContent = data.initials;
    $("kiosk-balance").textContent = "$ " + data.balance;
    $("kiosk-last-bill").textContent = data.last_bill_period
      ? data.last_bill_period + " — $ " + data.last_bill_total + " (" + data.last_bill_due + ")" : "—";
    $("kiosk-amount").value = data.balance.charAt(0) === "-" || data.balance === "0.00" ? "" : data.balance;
    shell.dataset.state = "found";
  }
  async function lookup() {
    const data = await call(config.urls.lookup, {
      reference: $("kiosk-reference").value.trim(), account: $("kiosk-account").value.trim(),
    });
    if (data) draw(data);
    else { $("kiosk-account-panel").hidden = true; shell.dataset.state = "not-found"; }
  }
  $("kiosk-lookup-form").addEventListener("submit", function (event) {
    event.preventDefault();
    lookup();
  });
  $("kiosk-pay-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!reference) return;
    $("kiosk-pay").disabled = true;
    const data = await call(config.urls.pay, {
      reference: reference, amount: $("kiosk-amount").value.trim(),
      method: $("kiosk-method").value, token: $("kiosk-token").value.trim(),
    });
    $("kiosk-pay").disabled = false;
    $("kiosk-token").value = "";
    if (!data) return;
    $("kiosk-result").textContent = format(msg.paid, {
      id: data.payment, amount: "$ " + data.amount, authorization: data.authorization,
    });
    draw(data.account);
    shell.dataset.state = "paid";
  });
  if (config.reference) {
    $("kiosk-reference").value = config.reference;
    lookup();
  }
})();
