//! `App::update` driven by messages, asserting on state and on the effects it asks for.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{fixture_page, now, numbered, page_of};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use xmedia::app::{App, AppConfig, NoticeLevel, PagerState, media_url};
use xmedia::domain::{Cursor, Page, ProviderKind};
use xmedia::effect::Effect;
use xmedia::error::ProviderError;
use xmedia::msg::{Msg, RequestId};

fn app_with(threshold: usize) -> App {
    let config = AppConfig {
        prefetch_threshold: threshold,
        user_label: "@orbitlab".into(),
        ..AppConfig::default()
    };
    let mut app = App::new(ProviderKind::Keyapi, config);
    app.update(Msg::Resized(120, 40));
    app.update(Msg::Tick(now()));
    app
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn fetch(effects: &[Effect]) -> Option<(RequestId, Option<Cursor>)> {
    let fetches: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::FetchPage { req, cursor } => Some((*req, cursor.clone())),
            _ => None,
        })
        .collect();
    assert!(fetches.len() <= 1, "more than one fetch: {effects:?}");
    fetches.into_iter().next()
}

fn c(s: &str) -> Option<Cursor> {
    Some(Cursor(s.into()))
}

/// Starts and loads the first page; returns the app.
fn loaded(threshold: usize, page: Page) -> App {
    let mut app = app_with(threshold);
    let (req, cursor) = fetch(&app.update(Msg::Started)).unwrap();
    assert_eq!(cursor, None);
    app.update(Msg::PageLoaded { req, page });
    app
}

fn network() -> ProviderError {
    ProviderError::Network {
        provider: ProviderKind::Keyapi,
        message: "connection reset".into(),
    }
}

fn current_req(app: &App) -> RequestId {
    match app.pager() {
        PagerState::Loading { req, .. } => *req,
        other => panic!("not loading: {other:?}"),
    }
}

#[test]
fn start_fetches_the_first_page_once() {
    let mut app = app_with(40);
    let effects = app.update(Msg::Started);
    assert_eq!(
        effects,
        vec![Effect::FetchPage {
            req: RequestId(1),
            cursor: None
        }]
    );
    assert!(app.update(Msg::Started).is_empty());
    assert!(app.start().is_empty());
}

#[test]
fn selection_moves_and_clamps() {
    let mut app = loaded(0, page_of(0..10, None));
    assert_eq!(app.selected(), 0);
    app.update(key('k'));
    assert_eq!(app.selected(), 0);
    app.update(key('j'));
    app.update(code(KeyCode::Down));
    assert_eq!(app.selected(), 2);
    app.update(code(KeyCode::Up));
    assert_eq!(app.selected(), 1);
    app.update(key('G'));
    assert_eq!(app.selected(), 9);
    app.update(key('j'));
    assert_eq!(app.selected(), 9);
    app.update(key('g'));
    assert_eq!(app.selected(), 0);
    app.update(code(KeyCode::End));
    assert_eq!(app.selected(), 9);
    app.update(code(KeyCode::Home));
    assert_eq!(app.selected(), 0);
}

#[test]
fn repeat_moves_release_does_not() {
    let mut app = loaded(0, page_of(0..10, None));
    let mut ev = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    ev.kind = KeyEventKind::Repeat;
    app.update(Msg::Key(ev));
    assert_eq!(app.selected(), 1);
    ev.kind = KeyEventKind::Release;
    app.update(Msg::Key(ev));
    assert_eq!(app.selected(), 1);
}

#[test]
fn paging_moves_by_the_visible_rows() {
    let mut app = loaded(0, page_of(0..100, None));
    // 120x40: header 3, status 1, list border 2 → 34 lines, 2 per row.
    app.update(code(KeyCode::PageDown));
    assert_eq!(app.selected(), 17);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('d'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(app.selected(), 25);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(app.selected(), 17);
    app.update(code(KeyCode::PageUp));
    assert_eq!(app.selected(), 0);
}

#[test]
fn prefetch_emits_exactly_one_fetch_near_the_end() {
    let mut app = loaded(5, page_of(0..20, Some("c1")));
    assert!(matches!(app.pager(), PagerState::Idle { next: Some(_) }));
    for _ in 0..13 {
        assert_eq!(fetch(&app.update(key('j'))), None);
    }
    assert_eq!(app.selected(), 13);
    let (req, cursor) = fetch(&app.update(key('j'))).unwrap();
    assert_eq!(cursor, c("c1"));
    // Loading: moving on, even to the end, asks for nothing more.
    for _ in 0..10 {
        assert_eq!(fetch(&app.update(key('j'))), None);
    }
    assert_eq!(fetch(&app.update(key('G'))), None);
    assert_eq!(current_req(&app), req);
}

#[test]
fn default_threshold_prefetches_forty_rows_ahead() {
    let mut app = loaded(40, page_of(0..100, Some("c1")));
    for _ in 0..58 {
        assert_eq!(fetch(&app.update(key('j'))), None);
    }
    assert!(fetch(&app.update(key('j'))).is_some());
}

#[test]
fn a_short_first_page_keeps_fetching_until_the_buffer_is_full() {
    let mut app = app_with(40);
    let (req, _) = fetch(&app.update(Msg::Started)).unwrap();
    let effects = app.update(Msg::PageLoaded {
        req,
        page: page_of(0..20, Some("c1")),
    });
    assert_eq!(fetch(&effects).unwrap().1, c("c1"));
}

#[test]
fn stale_pages_are_dropped() {
    let mut app = loaded(0, page_of(0..5, Some("c1")));
    let (old, _) = fetch(&app.update(key('G'))).unwrap();
    // `r` while loading does not start a second request.
    assert!(app.update(key('r')).is_empty());
    app.take_dirty();
    app.update(Msg::PageFailed {
        req: RequestId(999),
        error: network(),
    });
    assert_eq!(current_req(&app), old);
    let effects = app.update(Msg::PageLoaded {
        req: RequestId(999),
        page: page_of(100..110, None),
    });
    assert!(effects.is_empty());
    assert_eq!(app.tweets().len(), 5);
    assert!(
        !app.take_dirty(),
        "a stale answer changes nothing on screen"
    );
}

#[test]
fn r_retries_failed_pictures_before_it_refreshes_the_list() {
    let mut app = loaded(0, page_of(0..5, None));
    // The header's avatar failed: `r` asks for it again and spends no request on the list.
    app.update(Msg::HeaderPicturesFailed {
        avatar: true,
        badge: false,
    });
    let effects = app.update(key('r'));
    assert_eq!(effects, vec![Effect::RetryPictures]);
    assert!(
        app.notice()
            .is_some_and(|n| n.text.contains("header pictures"))
    );
    // The shown picture failed as well: that one is named.
    app.update(Msg::PictureFailed(true));
    assert_eq!(app.update(key('r')), vec![Effect::RetryPictures]);
    assert!(app.notice().is_some_and(|n| n.text.contains("the picture")));
    // Nothing broken: `r` refreshes the list.
    app.update(Msg::PictureFailed(false));
    app.update(Msg::HeaderPicturesFailed {
        avatar: false,
        badge: false,
    });
    assert!(fetch(&app.update(key('r'))).is_some());
}

#[test]
fn refresh_replaces_and_drops_the_old_answer() {
    let mut app = loaded(0, page_of(0..5, None));
    assert_eq!(app.pager(), &PagerState::Exhausted);
    app.update(key('j'));
    app.update(key('j'));
    let (r1, cursor) = fetch(&app.update(key('r'))).unwrap();
    assert_eq!(cursor, None);
    // The refresh fails, `r` retries it: an answer to the first request is now stale.
    let mut page = page_of(0..5, None);
    page.tweets.insert(0, numbered(50));
    app.update(Msg::PageFailed {
        req: r1,
        error: ProviderError::Unauthorized {
            provider: ProviderKind::Keyapi,
            message: "bad key".into(),
        },
    });
    let (r2, _) = fetch(&app.update(key('r'))).unwrap();
    assert_ne!(r1, r2);
    assert!(
        app.update(Msg::PageLoaded {
            req: r1,
            page: page_of(70..80, None)
        })
        .is_empty()
    );
    app.update(Msg::PageLoaded { req: r2, page });
    assert_eq!(app.tweets().len(), 6);
    assert_eq!(app.tweets()[0].id, "50");
    // The selection stays on the same tweet.
    assert_eq!(app.selected_tweet().unwrap().id, "2");
}

// RELIABILITY D6
#[test]
fn duplicates_are_merged_away() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let (req, _) = match app.pager() {
        PagerState::Loading { req, cursor, .. } => (*req, cursor.clone()),
        other => panic!("{other:?}"),
    };
    app.update(Msg::PageLoaded {
        req,
        page: page_of(5..15, Some("c2")),
    });
    let ids: Vec<&str> = app.tweets().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len(), 15);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 15);
}

// RELIABILITY D5
#[test]
fn no_cursor_means_the_end() {
    let mut app = loaded(100, page_of(0..10, None));
    assert_eq!(app.pager(), &PagerState::Exhausted);
    for _ in 0..20 {
        assert_eq!(fetch(&app.update(key('j'))), None);
    }
}

// RELIABILITY D1
#[test]
fn a_repeated_cursor_means_the_end() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let req = current_req(&app);
    app.update(Msg::PageLoaded {
        req,
        page: page_of(10..20, Some("c1")),
    });
    assert_eq!(app.pager(), &PagerState::Exhausted);
    assert_eq!(app.tweets().len(), 20);
    assert_eq!(fetch(&app.update(key('G'))), None);
}

// RELIABILITY D3
#[test]
fn three_empty_pages_mean_the_end() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    for i in 2..=4 {
        let req = current_req(&app);
        // Empty, or only tweets we already have.
        let page = if i == 3 {
            page_of(0..10, Some(&format!("c{i}")))
        } else {
            page_of(0..0, Some(&format!("c{i}")))
        };
        let effects = app.update(Msg::PageLoaded { req, page });
        if i < 4 {
            assert!(fetch(&effects).is_some(), "page {i}");
        } else {
            assert_eq!(fetch(&effects), None);
        }
    }
    assert_eq!(app.pager(), &PagerState::Exhausted);
}

// RELIABILITY D9
#[test]
fn a_failure_keeps_the_data_and_shows_the_error() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let req = current_req(&app);
    let error = ProviderError::QuotaExhausted {
        provider: ProviderKind::Keyapi,
        message: "no credits".into(),
    };
    let effects = app.update(Msg::PageFailed {
        req,
        error: error.clone(),
    });
    assert!(effects.is_empty(), "not retryable: {effects:?}");
    assert_eq!(app.tweets().len(), 10);
    match app.pager() {
        PagerState::Failed {
            error: e,
            retry: None,
            cursor,
            ..
        } => {
            assert_eq!(e, &error);
            assert_eq!(cursor, &c("c1"));
        }
        other => panic!("{other:?}"),
    }
    // Moving does not refetch on its own.
    assert_eq!(fetch(&app.update(key('G'))), None);
    // `r` does.
    let (_, cursor) = fetch(&app.update(key('r'))).unwrap();
    assert_eq!(cursor, c("c1"));
}

fn scheduled(effects: &[Effect]) -> Option<(RequestId, Duration)> {
    effects.iter().find_map(|e| match e {
        Effect::ScheduleRetry { req, after } => Some((*req, *after)),
        _ => None,
    })
}

// RELIABILITY D9 C8
#[test]
fn retryable_errors_back_off_and_stop_after_the_bound() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let max = app.config().max_retries;
    let mut req = current_req(&app);
    let mut last = Duration::ZERO;
    for attempt in 1..=max {
        let (retry, after) = scheduled(&app.update(Msg::PageFailed {
            req,
            error: network(),
        }))
        .unwrap_or_else(|| panic!("attempt {attempt} not scheduled"));
        let base = Duration::from_secs(1 << (attempt - 1));
        assert!(
            after >= base.mul_f64(0.75) && after <= base.mul_f64(1.25),
            "attempt {attempt}: {after:?}"
        );
        assert!(after > last);
        last = after;
        assert!(matches!(
            app.pager(),
            PagerState::Failed { retry: Some(_), .. }
        ));
        let effects = app.update(Msg::RetryDue { req: retry });
        let (r, cursor) = fetch(&effects).unwrap();
        assert_eq!(r, retry);
        assert_eq!(cursor, c("c1"));
        req = r;
    }
    let effects = app.update(Msg::PageFailed {
        req,
        error: network(),
    });
    assert!(effects.is_empty(), "retries must be bounded: {effects:?}");
    assert!(matches!(
        app.pager(),
        PagerState::Failed { retry: None, .. }
    ));
    // By hand it still works.
    assert!(fetch(&app.update(key('r'))).is_some());
}

// RELIABILITY C4
#[test]
fn rate_limits_wait_as_told() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let req = current_req(&app);
    let (_, after) = scheduled(&app.update(Msg::PageFailed {
        req,
        error: ProviderError::RateLimited {
            provider: ProviderKind::Keyapi,
            retry_after: Some(Duration::from_secs(42)),
            reset_at: None,
        },
    }))
    .unwrap();
    assert!(after >= Duration::from_secs(42) && after < Duration::from_millis(42_500));
}

// RELIABILITY C6
#[test]
fn rate_limits_without_retry_after_wait_for_the_reset() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let req = current_req(&app);
    let (_, after) = scheduled(&app.update(Msg::PageFailed {
        req,
        error: ProviderError::RateLimited {
            provider: ProviderKind::Keyapi,
            retry_after: None,
            reset_at: Some(now() + chrono::Duration::seconds(90)),
        },
    }))
    .unwrap();
    assert!(after >= Duration::from_secs(90) && after < Duration::from_millis(90_500));
}

#[test]
fn manual_retry_supersedes_the_scheduled_one() {
    let mut app = loaded(100, page_of(0..10, Some("c1")));
    let req = current_req(&app);
    let (retry, _) = scheduled(&app.update(Msg::PageFailed {
        req,
        error: network(),
    }))
    .unwrap();
    let (manual, _) = fetch(&app.update(key('r'))).unwrap();
    assert_ne!(manual, retry);
    assert!(app.update(Msg::RetryDue { req: retry }).is_empty());
    assert_eq!(current_req(&app), manual);
}

#[test]
fn open_tweet_emits_the_exact_url() {
    let mut app = loaded(0, fixture_page(None));
    let effects = app.update(key('o'));
    assert_eq!(
        effects,
        vec![Effect::OpenUrl("https://x.com/orbitlab/status/1001".into())]
    );
    let notice = app.notice().unwrap();
    assert_eq!(notice.level, NoticeLevel::Info);
    assert!(notice.text.contains("https://x.com/orbitlab/status/1001"));
}

#[test]
fn open_media_picks_original_photos_and_best_mp4() {
    let mut app = loaded(0, fixture_page(None));
    assert_eq!(
        app.update(key('O')),
        vec![Effect::OpenUrl(
            "https://pbs.twimg.com/media/AAA.jpg?name=orig".into()
        )]
    );
    app.update(key('j'));
    assert_eq!(
        app.update(key('O')),
        vec![Effect::OpenUrl("https://video.twimg.com/v/2176.mp4".into())]
    );
    app.update(key('j'));
    assert_eq!(
        app.update(key('O')),
        vec![Effect::OpenUrl("https://video.twimg.com/v/2176.mp4".into())]
    );
    // A quote without media of its own opens the quoted photo, size param replaced.
    app.update(key('j'));
    assert_eq!(
        app.update(key('O')),
        vec![Effect::OpenUrl(
            "https://pbs.twimg.com/media/QQQ?format=jpg&name=orig".into()
        )]
    );
}

// RELIABILITY E1 E6 E7
#[test]
fn unsafe_links_become_an_error_notice() {
    let mut page = fixture_page(None);
    page.tweets[0].url = "javascript:alert(1)".into();
    page.tweets[1].url = "https://user:pw@x.com/a".into();
    page.tweets[2].url = "https://x.com/\u{1b}[2J".into();
    let mut app = loaded(0, page);
    for _ in 0..3 {
        assert!(app.update(key('o')).is_empty());
        assert_eq!(app.notice().unwrap().level, NoticeLevel::Error);
        app.update(key('j'));
    }
    // Media links go through the same check.
    let mut page = page_of(0..2, None);
    page.tweets[0].media[0].url = Some("javascript:alert(1)".into());
    let mut app = loaded(0, page);
    assert!(app.update(key('O')).is_empty());
    assert_eq!(app.notice().unwrap().level, NoticeLevel::Error);
}

#[test]
fn media_url_explains_what_is_missing() {
    let mut t = numbered(1);
    t.media.clear();
    assert_eq!(media_url(&t), Err("this tweet has no media"));
    let mut t = numbered(1);
    t.media[0] = common::video(xmedia::domain::MediaKind::Video, None);
    t.media[0].variants.retain(|v| v.bitrate.is_none());
    assert_eq!(media_url(&t), Err("no playable MP4 for this video"));
}

#[test]
fn copy_link_copies_the_tweet_url() {
    let mut app = loaded(0, fixture_page(None));
    assert_eq!(
        app.update(key('y')),
        vec![Effect::CopyToClipboard(
            "https://x.com/orbitlab/status/1001".into()
        )]
    );
    assert_eq!(app.notice().unwrap().text, "copied link");
}

#[test]
fn notices_expire_after_their_ttl() {
    let mut app = loaded(0, fixture_page(None));
    app.update(key('y'));
    assert!(app.tick_interval().is_some());
    app.update(Msg::Tick(now() + chrono::Duration::seconds(10)));
    assert!(app.notice().is_some(), "the ttl starts at the first tick");
    app.update(Msg::Tick(now() + chrono::Duration::seconds(12)));
    assert!(app.notice().is_some());
    app.update(Msg::Tick(now() + chrono::Duration::seconds(14)));
    assert!(app.notice().is_none());
    assert_eq!(app.tick_interval(), None, "idle means no ticks");
}

#[test]
fn help_toggles_and_is_modal() {
    let mut app = loaded(0, page_of(0..10, None));
    app.update(key('?'));
    assert!(app.show_help());
    app.update(key('j'));
    assert_eq!(app.selected(), 0, "keys do not act behind the overlay");
    app.update(key('?'));
    assert!(!app.show_help());
    app.update(key('?'));
    assert!(app.update(code(KeyCode::Esc)).is_empty());
    assert!(!app.show_help());
    assert!(!app.should_quit());
    assert_eq!(app.update(code(KeyCode::Esc)), vec![Effect::Quit]);
    assert!(app.should_quit());
}

/// Inside help, `q` closes it (quitting by mistake would cost the pages loaded so far); Ctrl-C
/// quits from anywhere, and `q` quits once help is closed.
#[test]
fn q_closes_the_help_and_ctrl_c_quits_from_it() {
    let mut app = loaded(0, page_of(0..10, None));
    app.update(key('?'));
    assert!(app.update(key('q')).is_empty());
    assert!(!app.show_help());
    assert!(!app.should_quit());
    app.update(key('?'));
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), vec![Effect::Quit]);
    assert!(app.should_quit());
    let mut app = loaded(0, page_of(0..10, None));
    assert_eq!(app.update(key('q')), vec![Effect::Quit]);
}

#[test]
fn on_a_short_terminal_the_moving_keys_scroll_the_help() {
    let mut app = loaded(0, page_of(0..10, None));
    app.update(Msg::Resized(60, 12));
    let rows = app.keymap().bindings().len();
    let max = xmedia::ui::help::max_scroll(ratatui::layout::Rect::new(0, 0, 60, 12), rows);
    assert!(max > 0, "12 rows do not hold {rows} keys");
    app.update(key('?'));
    app.update(key('j'));
    app.update(key('j'));
    assert_eq!(app.help_scroll(), 2);
    assert_eq!(app.selected(), 0, "the list behind does not move");
    app.update(key('k'));
    assert_eq!(app.help_scroll(), 1);
    app.update(key('G'));
    assert_eq!(app.help_scroll(), max);
    app.update(key('j'));
    assert_eq!(app.help_scroll(), max, "not past the last row");
    app.update(key('g'));
    assert_eq!(app.help_scroll(), 0);
    app.update(key('k'));
    assert_eq!(app.help_scroll(), 0);
    // A page: the rows that fit (six at 12 lines, one line of them says "… more"), less one
    // kept from the last page.
    app.update(code(KeyCode::PageDown));
    assert_eq!(app.help_scroll(), 4);
    app.update(code(KeyCode::PageUp));
    assert_eq!(app.help_scroll(), 0);
    // Closed and opened again, it starts at the top.
    app.update(key('?'));
    app.update(key('?'));
    assert_eq!(app.help_scroll(), 0);
    // On a screen that holds it all, there is nothing to scroll.
    app.update(Msg::Resized(120, 40));
    app.update(key('j'));
    assert_eq!(app.help_scroll(), 0);
}

#[test]
fn quit_keys() {
    for msg in [
        key('q'),
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    ] {
        let mut app = app_with(40);
        assert_eq!(app.update(msg), vec![Effect::Quit]);
        assert!(app.should_quit());
    }
}

#[test]
fn mouse_wheel_scrolls_and_click_selects() {
    let mut app = loaded(0, page_of(0..50, None));
    let mouse = |kind, column, row| {
        Msg::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.update(mouse(MouseEventKind::ScrollDown, 10, 10));
    app.update(mouse(MouseEventKind::ScrollDown, 10, 10));
    assert_eq!(app.selected(), 2);
    app.update(mouse(MouseEventKind::ScrollUp, 10, 10));
    assert_eq!(app.selected(), 1);
    // List inner starts at row 4 (header 3 + border); rows are 2 lines: row 10 is tweet 3.
    app.update(mouse(MouseEventKind::Down(MouseButton::Left), 10, 10));
    assert_eq!(app.selected(), 3);
    // Clicks outside the list (header, preview) change nothing.
    app.update(mouse(MouseEventKind::Down(MouseButton::Left), 10, 0));
    app.update(mouse(MouseEventKind::Down(MouseButton::Left), 110, 10));
    assert_eq!(app.selected(), 3);
}

#[test]
fn profile_and_request_count_are_tracked() {
    let mut app = loaded(0, fixture_page(None));
    assert_eq!(app.profile().unwrap().media_count, Some(4_487));
    // A thinner profile later does not erase what we knew.
    app.update(Msg::ProfileLoaded(xmedia::domain::Profile {
        handle: "orbitlab".into(),
        followers: Some(240_000_000),
        ..Default::default()
    }));
    let p = app.profile().unwrap();
    assert_eq!(p.followers, Some(240_000_000));
    assert_eq!(p.media_count, Some(4_487));
    app.update(Msg::RequestsSpent(7));
    assert_eq!(app.requests_spent(), 7);
}

#[test]
fn a_hundred_thousand_tweets_navigate_end_to_end() {
    let mut app = loaded(0, page_of(0..100_000, None));
    app.update(key('G'));
    for _ in 0..1_000 {
        app.update(key('k'));
    }
    app.update(key('g'));
    assert_eq!(app.selected(), 0);
}

#[test]
fn dirty_tracks_changes() {
    let mut app = loaded(0, page_of(0..5, None));
    assert!(app.take_dirty());
    assert!(!app.take_dirty());
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('z'),
        KeyModifiers::NONE,
    )));
    assert!(!app.take_dirty(), "unbound key");
    app.update(key('j'));
    assert!(app.take_dirty());
    app.update(key('G'));
    app.take_dirty();
    app.update(key('j'));
    assert!(!app.take_dirty(), "already on the last row");
}

fn with_player(player: Option<&str>, page: Page) -> App {
    let config = AppConfig {
        prefetch_threshold: 0,
        player: player.map(str::to_string),
        ..AppConfig::default()
    };
    let mut app = App::new(ProviderKind::Keyapi, config);
    app.update(Msg::Resized(120, 40));
    let (req, _) = fetch(&app.update(Msg::Started)).unwrap();
    app.update(Msg::PageLoaded { req, page });
    app
}

#[test]
fn open_media_hands_videos_to_the_configured_player_and_photos_to_the_browser() {
    let mut app = with_player(Some("mpv --loop"), fixture_page(None));
    // A photo still goes to the browser.
    assert_eq!(
        app.update(key('O')),
        vec![Effect::OpenUrl(
            "https://pbs.twimg.com/media/AAA.jpg?name=orig".into()
        )]
    );
    // Video and GIF: the best MP4 to the player, and the notice names the program.
    for _ in 0..2 {
        app.update(key('j'));
        assert_eq!(
            app.update(key('O')),
            vec![Effect::Play {
                url: "https://video.twimg.com/v/2176.mp4".into(),
                command: "mpv --loop".into(),
            }]
        );
        assert_eq!(app.notice().unwrap().text, "playing in mpv");
    }
    // A player never receives a link the browser would not get.
    let mut page = fixture_page(None);
    page.tweets[1].media[0].video_url = Some("file:///etc/passwd".into());
    let mut app = with_player(Some("mpv"), page);
    app.update(key('j'));
    assert!(app.update(key('O')).is_empty());
    assert_eq!(app.notice().unwrap().level, NoticeLevel::Error);
}

fn sensitive_page() -> Page {
    let mut page = page_of(0..3, None);
    page.tweets[1].sensitive = Some(true);
    // A tweet quoting a sensitive one shows the quoted pictures: hidden too.
    let mut quoted = numbered(90);
    quoted.sensitive = Some(true);
    page.tweets[2].quoted = Some(Box::new(quoted));
    page
}

#[test]
fn sensitive_media_is_hidden_until_s_reveals_it_per_tweet() {
    let mut app = loaded(0, sensitive_page());
    let ids: Vec<String> = app.tweets().iter().map(|t| t.id.clone()).collect();
    let hidden =
        |app: &App| -> Vec<bool> { app.tweets().iter().map(|t| app.media_hidden(t)).collect() };
    assert_eq!(hidden(&app), vec![false, true, true]);

    // `s` on a tweet that is not sensitive says so and changes nothing.
    app.take_dirty();
    assert!(app.update(key('s')).is_empty());
    assert!(app.notice().unwrap().text.contains("not marked sensitive"));
    assert_eq!(hidden(&app), vec![false, true, true]);

    app.update(key('j'));
    app.take_dirty();
    app.update(key('s'));
    assert!(app.take_dirty(), "revealing redraws");
    assert_eq!(
        hidden(&app),
        vec![false, false, true],
        "only the selected tweet"
    );
    // Moving away and back keeps it revealed; `s` again hides it.
    app.update(key('j'));
    app.update(key('k'));
    assert_eq!(app.selected_tweet().unwrap().id, ids[1]);
    assert!(!app.media_hidden(app.selected_tweet().unwrap()));
    app.update(key('s'));
    assert_eq!(hidden(&app), vec![false, true, true]);
}

#[test]
fn hide_sensitive_off_shows_everything() {
    let config = AppConfig {
        prefetch_threshold: 0,
        hide_sensitive: false,
        ..AppConfig::default()
    };
    let mut app = App::new(ProviderKind::Keyapi, config);
    app.update(Msg::Resized(120, 40));
    let (req, _) = fetch(&app.update(Msg::Started)).unwrap();
    app.update(Msg::PageLoaded {
        req,
        page: sensitive_page(),
    });
    assert!(app.tweets().iter().all(|t| !app.media_hidden(t)));
}
