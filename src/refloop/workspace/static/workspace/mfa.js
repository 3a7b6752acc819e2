// After a passkey is added, show the recovery codes made with it (or go on to the next page).
document.addEventListener("otp_webauthn.register_complete", () => {
  const placeholder = document.querySelector("[data-after-register]");
  window.location.assign(placeholder ? placeholder.dataset.afterRegister : window.location.href);
});
