//! Where each pane goes, as pure arithmetic on the terminal size. Shared by the view and by
//! `App::update` (page size, mouse hit-testing), so both agree on what is on screen.

use ratatui::layout::Rect;

/// Below this the UI shows only a "terminal too small" notice.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// From this width on, list and preview sit side by side.
pub const WIDE_WIDTH: u16 = 100;
/// A narrow terminal stacks the preview under the list only from this body height on.
pub const STACK_MIN_BODY: u16 = 18;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    pub header: Rect,
    /// The list pane including its border.
    pub list: Rect,
    /// The preview pane including its border; `None` when hidden or when there is no room.
    pub preview: Option<Rect>,
    pub status: Rect,
}

impl ScreenLayout {
    /// `None` when the terminal is below [`MIN_WIDTH`]×[`MIN_HEIGHT`].
    pub fn compute(area: Rect, preview_visible: bool) -> Option<ScreenLayout> {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            return None;
        }
        let header_h = if area.height >= 20 { 3 } else { 2 };
        let header = Rect::new(area.x, area.y, area.width, header_h);
        let status = Rect::new(area.x, area.bottom() - 1, area.width, 1);
        let body = Rect::new(
            area.x,
            area.y + header_h,
            area.width,
            area.height - header_h - 1,
        );
        let (list, preview) = if preview_visible && area.width >= WIDE_WIDTH {
            let preview_w = (area.width * 2 / 5).max(40);
            let list_w = body.width - preview_w;
            (
                Rect::new(body.x, body.y, list_w, body.height),
                Some(Rect::new(body.x + list_w, body.y, preview_w, body.height)),
            )
        } else if preview_visible && body.height >= STACK_MIN_BODY {
            let preview_h = body.height * 2 / 5;
            let list_h = body.height - preview_h;
            (
                Rect::new(body.x, body.y, body.width, list_h),
                Some(Rect::new(body.x, body.y + list_h, body.width, preview_h)),
            )
        } else {
            (body, None)
        };
        Some(ScreenLayout {
            header,
            list,
            preview,
            status,
        })
    }

    /// The list's rows area, inside its border.
    pub fn list_inner(&self) -> Rect {
        inner(self.list)
    }
}

/// `r` without its one-cell border.
pub fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}
