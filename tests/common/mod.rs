//! A hand-built account covering what the panes must draw: photo×2, video with duration, GIF,
//! quoted tweet with media, reply, retweet, CJK/emoji text, big and missing metrics, affiliate.

#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use xmedia::domain::{
    Affiliate, Author, Cursor, Media, MediaKind, Metrics, Page, Profile, Tweet, Variant,
};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

pub fn profile() -> Profile {
    Profile {
        id: Some("11348282".into()),
        handle: "orbitlab".into(),
        name: Some("Orbital Lab".into()),
        followers: Some(239_912_345),
        following: Some(1_234),
        tweets: Some(98_231),
        media_count: Some(4_487),
        verified: Some(true),
        verified_type: Some("business".into()),
        affiliate: Some(Affiliate {
            label: Some("X".into()),
            badge_url: None,
            url: None,
        }),
        avatar_url: None,
        banner_url: None,
        bio: Some(
            "Exploring the universe one launch at a time. Photos, video and data from the pad."
                .into(),
        ),
        location: Some("Cape Canaveral, FL".into()),
        protected: Some(false),
        created_at: None,
    }
}

fn author() -> Author {
    Author {
        id: Some("11348282".into()),
        handle: Some("orbitlab".into()),
        name: Some("Orbital Lab".into()),
    }
}

pub fn photo(url: &str, w: u32, h: u32, alt: Option<&str>) -> Media {
    Media {
        kind: MediaKind::Photo,
        url: Some(url.into()),
        width: Some(w),
        height: Some(h),
        alt_text: alt.map(Into::into),
        duration_ms: None,
        variants: vec![],
        video_url: None,
        type_name: None,
    }
}

pub fn video(kind: MediaKind, duration_ms: Option<u64>) -> Media {
    let variants = vec![
        Variant {
            bitrate: None,
            content_type: Some("application/x-mpegURL".into()),
            url: "https://video.twimg.com/v/pl.m3u8".into(),
        },
        Variant {
            bitrate: Some(832_000),
            content_type: Some("video/mp4".into()),
            url: "https://video.twimg.com/v/832.mp4".into(),
        },
        Variant {
            bitrate: Some(2_176_000),
            content_type: Some("video/mp4".into()),
            url: "https://video.twimg.com/v/2176.mp4".into(),
        },
    ];
    Media {
        kind,
        url: Some("https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/poster.jpg".into()),
        width: Some(1920),
        height: Some(1080),
        alt_text: None,
        duration_ms,
        video_url: None,
        variants,
        type_name: None,
    }
}

fn tweet(id: &str, ago: Duration, text: &str, metrics: Metrics, media: Vec<Media>) -> Tweet {
    Tweet {
        id: id.into(),
        url: Tweet::canonical_url(Some("orbitlab"), id),
        created_at: Some(now() - ago),
        text: text.into(),
        lang: Some("en".into()),
        author: author(),
        metrics,
        media,
        quoted: None,
        reply_to: None,
        is_retweet: false,
        sensitive: None,
    }
}

/// The fixture's tweets, newest first.
pub fn tweets() -> Vec<Tweet> {
    let big = Metrics {
        likes: Some(1_234_567),
        retweets: Some(48_200),
        replies: Some(1_234),
        quotes: Some(321),
        bookmarks: Some(9_876),
        views: Some(239_900_000),
    };
    let partial = Metrics {
        likes: Some(812),
        retweets: Some(96),
        replies: Some(14),
        quotes: None,
        bookmarks: None,
        views: None,
    };
    let mut t1 = tweet(
        "1001",
        Duration::hours(3),
        "Static fire complete. All 33 engines ran for the full duration and the pad looks great — next stop, launch day!",
        big,
        vec![
            photo(
                "https://pbs.twimg.com/media/AAA.jpg",
                4096,
                2731,
                Some("The booster on the pad, venting at dusk"),
            ),
            photo("https://pbs.twimg.com/media/BBB.jpg", 1200, 800, None),
        ],
    );
    t1.lang = Some("en".into());
    let t2 = tweet(
        "1002",
        Duration::days(2),
        "Liftoff! Watch the full ascent in 4K.",
        partial,
        vec![video(MediaKind::Video, Some(46_000))],
    );
    let mut t3 = tweet(
        "1003",
        Duration::days(10),
        "@astro_fan Yes, that is the fairing separating. Here it is looped:",
        Metrics {
            likes: Some(57),
            ..Metrics::default()
        },
        vec![video(MediaKind::Gif, None)],
    );
    t3.reply_to = Some("998877".into());
    let quoted = Tweet {
        id: "900".into(),
        url: Tweet::canonical_url(Some("esa"), "900"),
        created_at: Some(now() - Duration::days(30)),
        text: "Our new deep-field image: thousands of galaxies in a patch of sky the size of a grain of sand.".into(),
        lang: Some("en".into()),
        author: Author {
            id: Some("900900".into()),
            handle: Some("esa".into()),
            name: Some("ESA".into()),
        },
        metrics: Metrics::default(),
        media: vec![photo("https://pbs.twimg.com/media/QQQ?format=jpg&name=small", 2048, 2048, Some("Deep field"))],
        quoted: None,
        reply_to: None,
        is_retweet: false,
        sensitive: None,
    };
    let mut t4 = tweet(
        "1004",
        Duration::days(264),
        "Look at this 👇 absolutely stunning work from our friends",
        Metrics {
            likes: Some(10_000),
            retweets: Some(999),
            views: Some(1_000_000),
            ..Metrics::default()
        },
        vec![],
    );
    t4.quoted = Some(Box::new(quoted));
    let mut t5 = tweet(
        "1005",
        Duration::days(1000),
        "打ち上げ成功！🚀🚀 ロケットは無事に軌道に到達しました。ご声援ありがとうございました 🙏",
        Metrics {
            likes: Some(4_321),
            retweets: Some(1_020),
            replies: Some(88),
            quotes: Some(12),
            bookmarks: Some(301),
            views: Some(512_345),
        },
        vec![photo(
            "https://pbs.twimg.com/media/CCC.png",
            1080,
            1350,
            Some("ロケットの写真"),
        )],
    );
    t5.lang = Some("ja".into());
    let mut t6 = tweet(
        "1006",
        Duration::days(1200),
        "RT @esa: Sunrise over the launch complex",
        Metrics::default(),
        vec![photo("https://pbs.twimg.com/media/DDD.jpg", 800, 600, None)],
    );
    t6.is_retweet = true;
    vec![t1, t2, t3, t4, t5, t6]
}

/// A page of the fixture's tweets.
pub fn fixture_page(next: Option<&str>) -> Page {
    Page {
        tweets: tweets(),
        next_cursor: next.map(|c| Cursor(c.into())),
        profile: Some(profile()),
        warnings: vec![],
    }
}

/// A plain photo tweet with a numeric id, for paging tests.
pub fn numbered(i: usize) -> Tweet {
    tweet(
        &i.to_string(),
        Duration::hours(i as i64 + 1),
        &format!("Tweet number {i}"),
        Metrics::default(),
        vec![photo(
            &format!("https://pbs.twimg.com/media/{i}.jpg"),
            100,
            100,
            None,
        )],
    )
}

pub fn page_of(range: std::ops::Range<usize>, next: Option<&str>) -> Page {
    Page {
        tweets: range.map(numbered).collect(),
        next_cursor: next.map(|c| Cursor(c.into())),
        profile: None,
        warnings: vec![],
    }
}

/// A KeyAPI app for `@orbitlab` in a `w`×`h` terminal that asked for its first page and got
/// `page`.
pub fn app_with(page: Page, w: u16, h: u16) -> xmedia::app::App {
    use xmedia::msg::{Msg, RequestId};
    let config = xmedia::app::AppConfig {
        user_label: "@orbitlab".into(),
        ..xmedia::app::AppConfig::default()
    };
    let mut app = xmedia::app::App::new(xmedia::domain::ProviderKind::Keyapi, config);
    app.update(Msg::Resized(w, h));
    app.update(Msg::Tick(now()));
    app.update(Msg::Started);
    app.update(Msg::PageLoaded {
        req: RequestId(1),
        page,
    });
    app
}
