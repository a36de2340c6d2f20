//! cadre
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod domain;
pub mod engine;
pub mod error;
pub mod events;
pub mod llm;
pub mod people;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod workforce;
pub mod ws;
