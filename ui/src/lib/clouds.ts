// Per-cloud facts the Add account form needs: default endpoints and what the user and secret are called.

import type { Cloud } from "../bindings/Cloud";
import type { MessageKey } from "../i18n";

export type VicohomeRegion = "us" | "eu";

export const VICOHOME_BASE_URLS: Record<VicohomeRegion, string> = {
  us: "https://api-us.vicohome.io",
  eu: "https://api-eu.vicohome.io",
};

interface CloudForm {
  defaultBaseUrl: string;
  userLabel: MessageKey;
  userType: "email" | "text";
  secretLabel: MessageKey;
}

export const CLOUD_FORMS: Record<Cloud, CloudForm> = {
  vicohome: {
    defaultBaseUrl: VICOHOME_BASE_URLS.us,
    userLabel: "settings.email",
    userType: "email",
    secretLabel: "settings.password",
  },
  onenet: {
    defaultBaseUrl: "https://ota.heclouds.com",
    userLabel: "settings.productId",
    userType: "text",
    secretLabel: "settings.accessKey",
  },
  quectel: {
    defaultBaseUrl: "https://iot-api.acceleronix.io",
    userLabel: "settings.email",
    userType: "email",
    secretLabel: "settings.password",
  },
};

export const CLOUDS: readonly Cloud[] = ["vicohome", "onenet", "quectel"];

export function isCloud(value: string): value is Cloud {
  return (CLOUDS as readonly string[]).includes(value);
}
