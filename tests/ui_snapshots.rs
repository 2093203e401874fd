//! The panes and the whole screen drawn into ratatui's `TestBackend`, compared with reviewed
//! snapshots under `tests/snapshots/`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{fixture_page, now, page_of};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use xmedia::app::{App, AppConfig};
use xmedia::domain::ProviderKind;
use xmedia::error::ProviderError;
use xmedia::msg::{Msg, RequestId};
use xmedia::ui::{self, Drawn, header, help, preview, status, timeline};

fn new_app(w: u16, h: u16) -> App {
    let config = AppConfig {
        user_label: "@orbitlab".into(),
        ..AppConfig::default()
    };
    let mut app = App::new(ProviderKind::Keyapi, config);
    app.update(Msg::Resized(w, h));
    app.update(Msg::Tick(now()));
    app
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Started and loaded the fixture; `next` says whether more pages follow.
fn populated(w: u16, h: u16, next: Option<&str>) -> App {
    let mut app = new_app(w, h);
    app.update(Msg::Started);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page: fixture_page(next),
    });
    app.update(Msg::RequestsSpent(1));
    app
}

fn screen(app: &App, w: u16, h: u16) -> (Terminal<TestBackend>, Drawn) {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut drawn = Drawn::default();
    term.draw(|f| drawn = ui::draw(f, app, now())).unwrap();
    (term, drawn)
}

fn snap(app: &App, w: u16, h: u16) -> TestBackend {
    screen(app, w, h).0.backend().clone()
}

#[test]
fn screen_loading() {
    let mut app = new_app(120, 30);
    app.update(Msg::Started);
    insta::assert_snapshot!(snap(&app, 120, 30));
}

#[test]
fn screen_populated_wide() {
    let app = populated(120, 34, Some("c1"));
    let (term, drawn) = screen(&app, 120, 34);
    // The picture's seam: top of the preview pane, inside its border.
    assert_eq!(drawn.image_area, Some(Rect::new(73, 4, 46, 11)));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn screen_populated_quote_selected() {
    let mut app = populated(120, 34, Some("c1"));
    for _ in 0..3 {
        app.update(key('j'));
    }
    insta::assert_snapshot!(snap(&app, 120, 34));
}

#[test]
fn screen_populated_cjk_selected() {
    let mut app = populated(120, 34, Some("c1"));
    for _ in 0..4 {
        app.update(key('j'));
    }
    insta::assert_snapshot!(snap(&app, 120, 34));
}

#[test]
fn screen_narrow_stacked() {
    let mut app = populated(80, 40, Some("c1"));
    app.update(key('j'));
    insta::assert_snapshot!(snap(&app, 80, 40));
}

#[test]
fn screen_narrow_short_hides_preview() {
    let app = populated(60, 20, Some("c1"));
    insta::assert_snapshot!(snap(&app, 60, 20));
}

#[test]
fn screen_preview_toggled_off() {
    let mut app = populated(120, 24, Some("c1"));
    app.update(key('p'));
    insta::assert_snapshot!(snap(&app, 120, 24));
}

#[test]
fn screen_error_with_retry_countdown() {
    let mut app = populated(120, 30, None);
    // Refresh, which fails with a retryable error: the data stays, a retry is scheduled.
    app.update(key('r'));
    app.update(Msg::PageFailed {
        req: RequestId(2),
        error: ProviderError::RateLimited {
            provider: ProviderKind::Keyapi,
            retry_after: Some(Duration::from_secs(42)),
            reset_at: None,
        },
    });
    app.update(Msg::RequestsSpent(2));
    insta::assert_snapshot!(snap(&app, 120, 30));
}

#[test]
fn screen_first_page_failed() {
    let mut app = new_app(100, 24);
    app.update(Msg::Started);
    app.update(Msg::PageFailed {
        req: RequestId(1),
        error: ProviderError::Unauthorized {
            provider: ProviderKind::Keyapi,
            message: "invalid api key".into(),
        },
    });
    app.update(Msg::RequestsSpent(1));
    insta::assert_snapshot!(snap(&app, 100, 24));
}

#[test]
fn screen_end_of_list() {
    let mut app = populated(120, 30, None);
    app.update(key('G'));
    insta::assert_snapshot!(snap(&app, 120, 30));
}

#[test]
fn screen_loading_more_with_notice() {
    let mut app = new_app(120, 30);
    app.update(Msg::Started);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page: page_of(0..8, Some("c1")),
    });
    app.update(key('G'));
    app.update(key('y'));
    app.update(Msg::RequestsSpent(2));
    insta::assert_snapshot!(snap(&app, 120, 30));
}

#[test]
fn screen_help() {
    let mut app = populated(120, 30, Some("c1"));
    app.update(key('?'));
    insta::assert_snapshot!(snap(&app, 120, 30));
}

// RELIABILITY G1 (the "terminal too small" notice)
#[test]
fn screen_too_small() {
    let app = populated(30, 8, None);
    insta::assert_snapshot!(snap(&app, 30, 8));
}

fn pane<W: ratatui::widgets::Widget>(w: u16, h: u16, widget: W) -> TestBackend {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| f.render_widget(widget, f.area())).unwrap();
    term.backend().clone()
}

#[test]
fn pane_header() {
    let app = populated(120, 30, None);
    insta::assert_snapshot!(pane(100, 3, header::Header::new(&app)));
    // Narrow: the bio gives way, the location stays.
    insta::assert_snapshot!("pane_header_narrow", pane(60, 3, header::Header::new(&app)));
}

/// With real graphics the header keeps a 6×3 box for the avatar and two cells for the badge
/// while they load. When they fail to load the text takes that room back: no blank square at
/// the left, no gap before the affiliate label.
#[test]
fn pane_header_pictures_failed() {
    let mut app = App::new(
        ProviderKind::Keyapi,
        AppConfig {
            header_pictures: true,
            ..AppConfig::default()
        },
    );
    app.update(Msg::Resized(120, 30));
    let mut profile = common::profile();
    profile.avatar_url = Some("https://pbs.twimg.com/profile_images/1/a_normal.jpg".into());
    if let Some(a) = profile.affiliate.as_mut() {
        a.badge_url = Some("https://pbs.twimg.com/profile_images/2/b.png".into());
    }
    app.update(Msg::ProfileLoaded(profile));
    let area = Rect::new(0, 0, 100, 3);
    let waiting = header::Header::new(&app).pictures(area);
    assert_eq!(waiting.avatar, Some(Rect::new(1, 0, 6, 3)));
    assert!(waiting.badge.is_some());
    insta::assert_snapshot!(
        "pane_header_pictures_loading",
        pane(100, 3, header::Header::new(&app))
    );

    app.take_dirty();
    app.update(Msg::HeaderPicturesFailed {
        avatar: true,
        badge: false,
    });
    assert!(app.take_dirty(), "the header is redrawn");
    let no_avatar = header::Header::new(&app).pictures(area);
    assert_eq!(no_avatar.avatar, None);
    let badge = no_avatar.badge.expect("the badge keeps its place");
    assert!(
        badge.x < waiting.badge.expect("badge").x,
        "moved left with the text"
    );
    insta::assert_snapshot!(
        "pane_header_avatar_failed",
        pane(100, 3, header::Header::new(&app))
    );

    app.update(Msg::HeaderPicturesFailed {
        avatar: true,
        badge: true,
    });
    assert_eq!(header::Header::new(&app).pictures(area), Default::default());
    let both = pane(100, 3, header::Header::new(&app));
    // Without pictures the header reads exactly as in a terminal without graphics.
    let mut plain = App::new(ProviderKind::Keyapi, AppConfig::default());
    plain.update(Msg::ProfileLoaded(app.profile().expect("profile").clone()));
    assert_eq!(both, pane(100, 3, header::Header::new(&plain)));
    insta::assert_snapshot!("pane_header_pictures_failed", both);
}

#[test]
fn pane_timeline() {
    let mut app = populated(120, 30, None);
    app.update(key('j'));
    insta::assert_snapshot!(pane(64, 18, timeline::TimelinePane::new(&app, now())));
}

#[test]
fn pane_preview() {
    let app = populated(120, 30, None);
    insta::assert_snapshot!(pane(48, 34, preview::PreviewPane::new(&app, now())));
}

/// A short preview pane (80×8 stacked under the list in 80×24) puts the picture beside the
/// text; the sensitive notice there is wrapped, so "s shows it" is not cut off.
#[test]
fn pane_preview_short_sensitive_beside_the_text() {
    let app = sensitive_reply_selected(80, 24);
    let text = format!("{:?}", pane(80, 8, preview::PreviewPane::new(&app, now())));
    assert!(text.contains("s shows it"), "{text}");
    insta::assert_snapshot!(pane(80, 8, preview::PreviewPane::new(&app, now())));
}

/// An app of `w`×`h` with the fixture's third tweet (a reply with a GIF) marked possibly
/// sensitive and selected.
fn sensitive_reply_selected(w: u16, h: u16) -> App {
    let mut app = new_app(w, h);
    app.update(Msg::Started);
    let mut page = fixture_page(None);
    page.tweets[2].sensitive = Some(true);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page,
    });
    app.update(key('j'));
    app.update(key('j'));
    app
}

#[test]
fn pane_preview_reply_gif_sensitive() {
    let mut app = sensitive_reply_selected(120, 30);
    insta::assert_snapshot!(pane(48, 30, preview::PreviewPane::new(&app, now())));
    // The list marks the row too, so hidden media is no surprise.
    insta::assert_snapshot!(
        "pane_timeline_sensitive_row",
        pane(64, 18, timeline::TimelinePane::new(&app, now()))
    );
    // Revealed: the placeholder is the normal one again (the picture layer draws over it).
    app.update(key('s'));
    let revealed = format!("{:?}", pane(48, 30, preview::PreviewPane::new(&app, now())));
    assert!(!revealed.contains("possibly sensitive"), "{revealed}");
    assert!(revealed.contains("GIF 1920×1080"), "{revealed}");
}

#[test]
fn pane_status() {
    let mut app = populated(120, 30, Some("c1"));
    app.update(Msg::RequestsSpent(12));
    insta::assert_snapshot!(pane(120, 1, status::StatusBar::new(&app, now())));
}

#[test]
fn pane_help() {
    let app = new_app(80, 30);
    insta::assert_snapshot!(pane(70, 24, help::HelpOverlay::new(app.keymap())));
}

#[test]
fn pane_help_short_terminal() {
    let app = new_app(80, 30);
    insta::assert_snapshot!(pane(60, 12, help::HelpOverlay::new(app.keymap())));
}

#[test]
fn pane_help_short_terminal_scrolled_to_the_end() {
    let app = new_app(80, 30);
    // Past the end on purpose: drawn clamped, the last row at the bottom.
    insta::assert_snapshot!(pane(
        60,
        12,
        help::HelpOverlay::new(app.keymap()).scrolled(100)
    ));
}

#[test]
fn help_lists_every_bound_key() {
    let app = new_app(80, 30);
    let rows = help::HelpOverlay::new(app.keymap()).rows();
    let text: String = rows.iter().map(|(k, d)| format!("{k} {d}\n")).collect();
    for (action, keys) in app.keymap().bindings() {
        assert!(text.contains(action.description()), "{action}");
        for k in keys {
            assert!(text.contains(&k.to_string()), "{k}");
        }
    }
}

/// Draws the populated app into every frame size with a width in `widths` and a height up to 60.
fn every_size_draws(widths: std::ops::RangeInclusive<u16>) {
    let mut app = populated(200, 60, Some("c1"));
    app.update(key('j'));
    app.update(key('j'));
    app.update(key('j'));
    let mut term = Terminal::new(TestBackend::new(0, 0)).unwrap();
    for w in widths {
        for h in 0..=60u16 {
            term.backend_mut().resize(w, h);
            term.resize(Rect::new(0, 0, w, h)).unwrap();
            term.draw(|f| {
                ui::draw(f, &app, now());
            })
            .unwrap();
        }
    }
}

// RELIABILITY G1: every size from 0×0 to 200×60, in four width bands so the test harness can
// run them on separate cores (12,261 frames in all).
#[test]
fn every_size_up_to_200x60_draws_widths_0_to_60() {
    every_size_draws(0..=60);
}

#[test]
fn every_size_up_to_200x60_draws_widths_61_to_110() {
    every_size_draws(61..=110);
}

#[test]
fn every_size_up_to_200x60_draws_widths_111_to_155() {
    every_size_draws(111..=155);
}

#[test]
fn every_size_up_to_200x60_draws_widths_156_to_200() {
    every_size_draws(156..=200);
}

// RELIABILITY G1 (any frame size against any app state, 0×0 included)
proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn drawing_never_panics(
        w in 0u16..=200,
        h in 0u16..=60,
        app_w in 0u16..=200,
        app_h in 0u16..=60,
        moves in 0usize..8,
        help in any::<bool>(),
        hide_preview in any::<bool>(),
        state in 0u8..4,
    ) {
        // The app may believe in a different size than the frame it is drawn into.
        let mut app = match state {
            0 => new_app(app_w, app_h),
            _ => populated(app_w, app_h, if state == 1 { Some("c1") } else { None }),
        };
        if state == 3 {
            app.update(key('r'));
            app.update(Msg::PageFailed {
                req: RequestId(2),
                error: ProviderError::Timeout { provider: ProviderKind::Keyapi },
            });
        }
        for _ in 0..moves {
            app.update(key('j'));
        }
        if help {
            app.update(key('?'));
        }
        if hide_preview {
            app.update(key('p'));
        }
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| {
            ui::draw(f, &app, now());
        })
        .unwrap();
    }
}

#[test]
fn the_selected_row_is_highlighted_and_marked() {
    let mut app = populated(120, 30, None);
    app.update(key('j'));
    let (term, _) = screen(&app, 120, 30);
    let buf = term.backend().buffer();
    // Tweet 2 starts on the third line of the list (header 3 + border 1 + one 2-line row).
    let marker = &buf[(1, 6)];
    assert_eq!(marker.symbol(), "▌");
    assert_ne!(marker.style().bg, None);
    assert_eq!(
        buf[(40, 6)].style().bg,
        marker.style().bg,
        "the whole row is highlighted"
    );
    assert_eq!(buf[(1, 4)].symbol(), " ");
    assert_ne!(buf[(40, 4)].style().bg, marker.style().bg);
}

#[test]
fn the_selection_is_drawn_even_if_the_app_believes_in_another_size() {
    let mut app = populated(200, 200, None);
    app.update(key('G'));
    let (term, _) = screen(&app, 80, 14);
    let text: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("Sunrise over the launch complex"), "{text}");
}

#[test]
fn image_area_only_with_media_and_room() {
    let app = populated(120, 34, None);
    assert!(screen(&app, 120, 34).1.image_area.is_some());
    assert_eq!(screen(&app, 120, 16).1.image_area, None, "too short");
    assert_eq!(screen(&app, 60, 20).1.image_area, None, "no preview");
    // 80×24, the preview stacked under the list: 6 rows inside, the picture on the left, 24
    // columns (four a row less the badge row, under half the width), the text beside it.
    let (term, drawn) = screen(&app, 80, 24);
    let area = drawn.image_area.expect("a picture beside the text");
    assert_eq!((area.x, area.width, area.height), (1, 20, 6));
    let row = |y: u16| -> String {
        let buf = term.backend().buffer();
        (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect()
    };
    assert!(
        (area.y..area.bottom()).any(|y| row(y)[22..].contains("@orbitlab")),
        "the author beside the picture"
    );
    // A taller stacked pane: half the width.
    let area = screen(&app, 80, 40).1.image_area.expect("picture");
    assert_eq!((area.width, area.height), (39, 12));
    let mut app = new_app(120, 34);
    app.update(Msg::Started);
    let mut page = page_of(0..3, None);
    page.tweets[0].media.clear();
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page,
    });
    assert_eq!(screen(&app, 120, 34).1.image_area, None, "no media");
}

#[test]
fn drawing_a_hundred_thousand_tweets_shows_the_right_window() {
    // Speed is measured in benches/frame.rs; here only that the window follows the selection.
    let mut app = new_app(120, 40);
    app.update(Msg::Started);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page: page_of(0..100_000, None),
    });
    app.update(key('G'));
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    for _ in 0..20 {
        app.update(key('k'));
        term.draw(|f| {
            ui::draw(f, &app, now());
        })
        .unwrap();
    }
    assert_eq!(app.selected(), 99_979);
    let text: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    let selected = app.selected_tweet().unwrap();
    assert!(
        text.contains(&selected.text[..selected.text.len().min(20)]),
        "selected row drawn"
    );
}
