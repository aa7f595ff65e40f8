//! Every Quectel endpoint's HTTP method and path, in one table. Several methods and paths are inferred from
//! vendor SDK samples (see the shared README); a correction is one line here.

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

impl Endpoint {
    /// THE table.
    pub const fn route(self) -> (Method, &'static str) {
        use Method::*;
        match self {
            Endpoint::EmailPwdLogin => (Post, "/v2/enduser/enduserapi/emailPwdLogin"),
            Endpoint::RefreshToken => (Put, "/v2/enduser/enduserapi/refreshToken"),
            Endpoint::UserDeviceList => (Get, "/v2/binding/enduserapi/userDeviceList"),
            Endpoint::GetDeviceUpgradePlan => {
                (Get, "/v2/quecota/enduserapi/v2/getDeviceUpgradePlan")
            }
            Endpoint::UserBatchConfirmUpgrade => {
                (Post, "/v2/quecota/enduserapi/v2/userBatchConfirmUpgrade")
            }
            Endpoint::GetBatchUpgradeDetails => {
                (Post, "/v2/quecota/enduserapi/v2/getBatchUpgradeDetails")
            }
            Endpoint::SetAutoUpgradeSwitch => (Post, "/v2/quecota/enduserapi/setAutoUpgradeSwitch"),
            Endpoint::GetAutoUpgradeSwitch => (Get, "/v2/quecota/enduserapi/getAutoUpgradeSwitch"),
            Endpoint::DeleteDeviceUpgrade => (Post, "/v2/quecota/enduserapi/deleteDeviceUpgrade"),
            Endpoint::GetFetchPlan => (Get, "/v2/quecota/enduserapi/getFetchPlan"),
            Endpoint::ReportUpgradeStatus => (Post, "/v2/quecota/enduserapi/reportUpgradeStatus"),
        }
    }

    pub const fn method(self) -> Method {
        self.route().0
    }

    pub const fn path(self) -> &'static str {
        self.route().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_routes() {
        assert_eq!(
            Endpoint::EmailPwdLogin.route(),
            (Method::Post, "/v2/enduser/enduserapi/emailPwdLogin")
        );
        assert_eq!(
            Endpoint::RefreshToken.route(),
            (Method::Put, "/v2/enduser/enduserapi/refreshToken")
        );
        assert_eq!(
            Endpoint::UserDeviceList.route(),
            (Method::Get, "/v2/binding/enduserapi/userDeviceList")
        );
        assert_eq!(
            Endpoint::GetDeviceUpgradePlan.path(),
            "/v2/quecota/enduserapi/v2/getDeviceUpgradePlan"
        );
    }
}
