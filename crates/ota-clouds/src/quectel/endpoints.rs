//! Every Quectel endpoint's HTTP method, path, parameter encoding and parameter names, in one table. Several
//! are inferred from vendor SDK samples (see the shared README and `docs/clouds/quectel.md`); a correction is
//! one line here. The client encodes every request the way its row says ([`Encoding`]), so the table is
//! what goes on the wire.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
}

impl Method {
    pub fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
        }
    }
}

/// Where an endpoint's parameters go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The query string.
    Query,
    /// An `application/x-www-form-urlencoded` body.
    Form,
    /// An `application/json` object.
    JsonObject,
    /// An `application/json` array of objects, each with the row's parameters.
    JsonArray,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub encoding: Encoding,
    /// The parameter names, in the order the docs list them; optional ones included.
    pub params: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    // Accounts.
    EmailPwdLogin,
    RefreshToken,
    // Devices.
    UserDeviceList,
    // OTA for MQTT devices (manual plans).
    GetDeviceUpgradePlan,
    UserBatchConfirmUpgrade,
    GetBatchUpgradeDetails,
    // User auto-confirmation mode.
    SetAutoUpgradeSwitch,
    GetAutoUpgradeSwitch,
    DeleteDeviceUpgrade,
    // OTA for Bluetooth devices (the app carries the firmware).
    GetFetchPlan,
    ReportUpgradeStatus,
}

const fn row(
    method: Method,
    path: &'static str,
    encoding: Encoding,
    params: &'static [&'static str],
) -> Route {
    Route {
        method,
        path,
        encoding,
        params,
    }
}

impl Endpoint {
    pub const ALL: [Endpoint; 11] = [
        Endpoint::EmailPwdLogin,
        Endpoint::RefreshToken,
        Endpoint::UserDeviceList,
        Endpoint::GetDeviceUpgradePlan,
        Endpoint::UserBatchConfirmUpgrade,
        Endpoint::GetBatchUpgradeDetails,
        Endpoint::SetAutoUpgradeSwitch,
        Endpoint::GetAutoUpgradeSwitch,
        Endpoint::DeleteDeviceUpgrade,
        Endpoint::GetFetchPlan,
        Endpoint::ReportUpgradeStatus,
    ];

    /// THE table.
    pub const fn route(self) -> Route {
        use Encoding::*;
        use Method::*;
        const DEVICE: &[&str] = &["productKey", "deviceKey"];
        const SHORT_DEVICE: &[&str] = &["pk", "dk"];
        match self {
            Endpoint::EmailPwdLogin => row(
                Post,
                "/v2/enduser/enduserapi/emailPwdLogin",
                Form,
                &["email", "pwd"],
            ),
            Endpoint::RefreshToken => row(
                Put,
                "/v2/enduser/enduserapi/refreshToken",
                Form,
                &["refreshToken"],
            ),
            Endpoint::UserDeviceList => row(
                Get,
                "/v2/binding/enduserapi/userDeviceList",
                Query,
                &["pageNumber", "pageSize"],
            ),
            Endpoint::GetDeviceUpgradePlan => row(
                Get,
                "/v2/quecota/enduserapi/v2/getDeviceUpgradePlan",
                Query,
                SHORT_DEVICE,
            ),
            Endpoint::UserBatchConfirmUpgrade => row(
                Post,
                "/v2/quecota/enduserapi/v2/userBatchConfirmUpgrade",
                JsonArray,
                &[
                    "productKey",
                    "deviceKey",
                    "planId",
                    "operType",
                    "appointStartTime",
                    "appointEndTime",
                ],
            ),
            Endpoint::GetBatchUpgradeDetails => row(
                Post,
                "/v2/quecota/enduserapi/v2/getBatchUpgradeDetails",
                JsonArray,
                &["productKey", "deviceKey", "planId"],
            ),
            Endpoint::SetAutoUpgradeSwitch => row(
                Post,
                "/v2/quecota/enduserapi/setAutoUpgradeSwitch",
                JsonObject,
                &["productKey", "deviceKey", "autoUpgrade"],
            ),
            Endpoint::GetAutoUpgradeSwitch => row(
                Get,
                "/v2/quecota/enduserapi/getAutoUpgradeSwitch",
                Query,
                DEVICE,
            ),
            Endpoint::DeleteDeviceUpgrade => row(
                Post,
                "/v2/quecota/enduserapi/deleteDeviceUpgrade",
                JsonObject,
                DEVICE,
            ),
            Endpoint::GetFetchPlan => row(
                Get,
                "/v2/quecota/enduserapi/getFetchPlan",
                Query,
                SHORT_DEVICE,
            ),
            Endpoint::ReportUpgradeStatus => row(
                Post,
                "/v2/quecota/enduserapi/reportUpgradeStatus",
                JsonObject,
                &["productKey", "deviceKey", "componentNo", "reportStatus"],
            ),
        }
    }

    pub const fn method(self) -> Method {
        self.route().method
    }

    pub const fn path(self) -> &'static str {
        self.route().path
    }

    pub const fn encoding(self) -> Encoding {
        self.route().encoding
    }

    pub const fn params(self) -> &'static [&'static str] {
        self.route().params
    }

    /// The query of an endpoint that names one device by its two parameters (product key, device key),
    /// under the names of its row.
    pub fn device_query<'a>(
        self,
        product_key: &'a str,
        device_key: &'a str,
    ) -> Vec<(&'static str, &'a str)> {
        self.params()
            .iter()
            .copied()
            .zip([product_key, device_key])
            .collect()
    }
}

/// Test helper: `value` (an object, or an array of objects) sends exactly the names of the endpoint's row.
#[cfg(test)]
pub(crate) fn assert_sends_row(endpoint: Endpoint, value: &serde_json::Value) {
    use std::collections::BTreeSet;
    let objects: Vec<&serde_json::Value> = match value {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    assert!(!objects.is_empty(), "{endpoint:?}: nothing to check");
    let row: BTreeSet<&str> = endpoint.params().iter().copied().collect();
    for object in objects {
        let sent: BTreeSet<&str> = object
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(sent, row, "{endpoint:?} sends other names than its row");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_routes() {
        let login = Endpoint::EmailPwdLogin.route();
        assert_eq!(
            (login.method, login.path, login.encoding),
            (
                Method::Post,
                "/v2/enduser/enduserapi/emailPwdLogin",
                Encoding::Form
            )
        );
        let refresh = Endpoint::RefreshToken.route();
        assert_eq!(
            (refresh.method, refresh.encoding, refresh.params),
            (Method::Put, Encoding::Form, &["refreshToken"][..])
        );
        assert_eq!(
            Endpoint::UserDeviceList.route().path,
            "/v2/binding/enduserapi/userDeviceList"
        );
        assert_eq!(
            Endpoint::GetDeviceUpgradePlan.path(),
            "/v2/quecota/enduserapi/v2/getDeviceUpgradePlan"
        );
    }

    #[test]
    fn reads_are_queries_and_changes_are_bodies() {
        for endpoint in Endpoint::ALL {
            let route = endpoint.route();
            assert_eq!(
                route.method == Method::Get,
                route.encoding == Encoding::Query,
                "{endpoint:?}"
            );
            assert!(!route.params.is_empty(), "{endpoint:?}");
        }
    }

    #[test]
    fn device_queries_use_the_rows_names() {
        assert_eq!(
            Endpoint::GetDeviceUpgradePlan.device_query("p", "d"),
            [("pk", "p"), ("dk", "d")]
        );
        assert_eq!(
            Endpoint::GetFetchPlan.device_query("p", "d"),
            [("pk", "p"), ("dk", "d")]
        );
        assert_eq!(
            Endpoint::GetAutoUpgradeSwitch.device_query("p", "d"),
            [("productKey", "p"), ("deviceKey", "d")]
        );
    }
}
