//! Placeholder until the demo server lands.
pub const DEMO_HANDLE: &str = "xmedia_demo";
pub const DEMO_USER_ID: &str = "1700000000000000001";
pub struct DemoOptions {
    pub port: u16,
    pub latency: std::time::Duration,
}
pub struct DemoServer;
impl DemoServer {
    pub fn base_url(&self) -> String {
        String::new()
    }
}
pub async fn start(_o: DemoOptions) -> std::io::Result<DemoServer> {
    Err(std::io::Error::other("not yet"))
}
