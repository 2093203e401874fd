//! A small, strict sixel decoder for tests: it reads what xmedia's encoder writes (DCS, raster
//! attributes, colour registers in RGB percent, `#` `!` `$` `-` and sixel characters, ST) and
//! records, besides the pixels, how often each pixel was painted, so a test can check that every
//! pixel is painted exactly once. Anything unexpected is an error, not a guess.
#![allow(dead_code)]

#[derive(Debug)]
pub struct Decoded {
    /// P1;P2 of the DCS introducer.
    pub params: Vec<u32>,
    /// Width and height from the raster attributes `"1;1;W;H`.
    pub raster: (usize, usize),
    /// The colour registers defined, as 0–255 values.
    pub registers: Vec<Option<[u8; 3]>>,
    /// Per pixel of the raster box, the colour painted last (`None` when never painted).
    pub pixels: Vec<Option<[u8; 3]>>,
    /// Per pixel, how many times a sixel bit landed on it.
    pub paints: Vec<u32>,
    /// The bands seen (`-` separated).
    pub bands: usize,
    /// Colour selections (`#n` without a definition).
    pub selects: usize,
}

impl Decoded {
    pub fn width(&self) -> usize {
        self.raster.0
    }
    pub fn height(&self) -> usize {
        self.raster.1
    }
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        self.pixels[y * self.raster.0 + x]
    }
}

fn number(s: &[u8], at: &mut usize) -> Option<u32> {
    let start = *at;
    let mut n: u32 = 0;
    while let Some(d) = s.get(*at).filter(|c| c.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
        *at += 1;
    }
    (*at > start).then_some(n)
}

fn numbers(s: &[u8], at: &mut usize) -> Result<Vec<u32>, String> {
    let mut out = vec![number(s, at).ok_or_else(|| format!("number expected at {at}"))?];
    while s.get(*at) == Some(&b';') {
        *at += 1;
        out.push(number(s, at).ok_or_else(|| format!("number expected at {at}"))?);
    }
    Ok(out)
}

/// Decodes one sixel sequence, which must be the whole of `data` (no text around it).
pub fn decode(data: &str) -> Result<Decoded, String> {
    let s = data.as_bytes();
    if !s.starts_with(b"\x1bP") {
        return Err("does not start with DCS (ESC P)".into());
    }
    let mut at = 2;
    let params = numbers(s, &mut at)?;
    if s.get(at) != Some(&b'q') {
        return Err(format!("expected q after the DCS parameters, at {at}"));
    }
    at += 1;
    if s.get(at) != Some(&b'"') {
        return Err("no raster attributes".into());
    }
    at += 1;
    let raster = numbers(s, &mut at)?;
    let [pan, pad, w, h] = raster[..] else {
        return Err(format!(
            "raster attributes {raster:?} are not Pan;Pad;Ph;Pv"
        ));
    };
    if (pan, pad) != (1, 1) {
        return Err(format!("pixel aspect {pan}:{pad}, expected 1:1"));
    }
    let (w, h) = (w as usize, h as usize);
    let mut d = Decoded {
        params,
        raster: (w, h),
        registers: vec![None; 256],
        pixels: vec![None; w * h],
        paints: vec![0; w * h],
        bands: 1,
        selects: 0,
    };
    let (mut x, mut band) = (0usize, 0usize);
    let mut color: Option<usize> = None;
    loop {
        let Some(&c) = s.get(at) else {
            return Err("no string terminator (ESC \\)".into());
        };
        match c {
            0x1b => {
                if s.get(at + 1) == Some(&b'\\') && at + 2 == s.len() {
                    return Ok(d);
                }
                return Err(format!("ESC inside the sixel data at {at}"));
            }
            b'#' => {
                at += 1;
                let n = numbers(s, &mut at)?;
                let reg = n[0] as usize;
                if reg >= 256 {
                    return Err(format!("colour register {reg} over 255"));
                }
                match n[..] {
                    [_] => {
                        if d.registers[reg].is_none() {
                            return Err(format!("register {reg} selected before defined"));
                        }
                        d.selects += 1;
                    }
                    [_, 2, r, g, b] => {
                        if r > 100 || g > 100 || b > 100 {
                            return Err(format!("register {reg} has a value over 100%"));
                        }
                        let v = |p: u32| ((p * 255 + 50) / 100) as u8;
                        d.registers[reg] = Some([v(r), v(g), v(b)]);
                    }
                    _ => return Err(format!("colour command {n:?} is not #n or #n;2;r;g;b")),
                }
                color = Some(reg);
            }
            b'$' => {
                at += 1;
                x = 0;
            }
            b'-' => {
                at += 1;
                x = 0;
                band += 1;
                d.bands += 1;
            }
            b'!' | 63..=126 => {
                let mut run = 1;
                if c == b'!' {
                    at += 1;
                    run = number(s, &mut at).ok_or("repeat count expected")? as usize;
                    if run == 0 {
                        return Err("repeat count 0".into());
                    }
                }
                let Some(&ch) = s.get(at).filter(|ch| (63..=126).contains(*ch)) else {
                    return Err(format!("sixel character expected at {at}"));
                };
                at += 1;
                let bits = ch - 63;
                if bits != 0 {
                    let reg = color.ok_or("pixels painted before any colour was chosen")?;
                    let rgb = d.registers[reg].ok_or("colour not defined")?;
                    for dx in 0..run {
                        for dy in 0..6 {
                            if bits & (1 << dy) == 0 {
                                continue;
                            }
                            let (px, py) = (x + dx, band * 6 + dy);
                            if px >= w || py >= h {
                                return Err(format!(
                                    "pixel ({px}, {py}) outside the {w}x{h} raster"
                                ));
                            }
                            d.pixels[py * w + px] = Some(rgb);
                            d.paints[py * w + px] += 1;
                        }
                    }
                }
                x += run;
            }
            other => return Err(format!("unexpected byte {other:#04x} at {at}")),
        }
    }
}
