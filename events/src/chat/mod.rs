//! Cloud Chat (IM) webhooks, by the sections of Tencent's "Webhook Command List".

pub mod bot;
pub mod c2c;
pub mod group;
pub mod official;
pub mod sns;
pub mod state;
