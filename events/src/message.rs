//! Message bodies: [`MsgElement`], one element of a `MsgBody` (Tencent's `TIMMessage` object).

use std::fmt;

use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One element of a message body: `{"MsgType": "TIMTextElem", "MsgContent": {...}}`.
///
/// A `MsgBody` is a list of them (`Vec<MsgElement>`). Each known `MsgType` has its own content
/// type; any other (`TIMRelayElem`, an element Tencent adds later) is kept as
/// [`MsgElement::Unknown`] with its content as raw JSON, and written back unchanged when a reply
/// carries it. Unknown fields inside a known element are ignored (Tencent adds fields).
///
/// ```
/// use tim_callback_events::message::MsgElement;
///
/// let body: Vec<MsgElement> = serde_json::from_str(
///     r#"[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}},
///         {"MsgType":"TIMRelayElem","MsgContent":{"Title":"chat history"}}]"#,
/// )?;
/// assert_eq!(body[0].as_text(), Some("hello"));
/// assert!(matches!(&body[1], MsgElement::Unknown { msg_type, .. } if msg_type == "TIMRelayElem"));
///
/// // Written back as Tencent reads it.
/// assert_eq!(
///     serde_json::to_string(&MsgElement::text("h***o"))?,
///     r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"h***o"}}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MsgElement {
    /// `TIMTextElem`.
    Text(TextElem),
    /// `TIMFaceElem`.
    Face(Box<FaceElem>),
    /// `TIMLocationElem`.
    Location(Box<LocationElem>),
    /// `TIMCustomElem`.
    Custom(Box<CustomElem>),
    /// `TIMImageElem`.
    Image(Box<ImageElem>),
    /// `TIMSoundElem`.
    Sound(Box<SoundElem>),
    /// `TIMVideoFileElem`.
    VideoFile(Box<VideoFileElem>),
    /// `TIMFileElem`.
    File(Box<FileElem>),
    /// Any other `MsgType`, its `MsgContent` kept as it came (`Null` when it had none).
    Unknown {
        /// The element's `MsgType`.
        msg_type: String,
        /// Its `MsgContent`, raw.
        content: Value,
    },
}

impl MsgElement {
    /// A text element.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextElem {
            text: Some(text.into()),
            extra: Map::new(),
        })
    }

    /// The text of a text element; `None` for any other element.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(elem) => elem.text.as_deref(),
            _ => None,
        }
    }

    /// The element's `MsgType` as Tencent writes it.
    pub fn msg_type(&self) -> &str {
        match self {
            Self::Text(_) => "TIMTextElem",
            Self::Face(_) => "TIMFaceElem",
            Self::Location(_) => "TIMLocationElem",
            Self::Custom(_) => "TIMCustomElem",
            Self::Image(_) => "TIMImageElem",
            Self::Sound(_) => "TIMSoundElem",
            Self::VideoFile(_) => "TIMVideoFileElem",
            Self::File(_) => "TIMFileElem",
            Self::Unknown { msg_type, .. } => msg_type,
        }
    }
}

/// A content type: its fields (each `Option`, written back only when present, so an element
/// read and written again is the element Tencent sent), and the members this crate does not know
/// (kept in `extra`, written back unchanged). Numbers are read as numbers or numeric strings.
macro_rules! content {
    ($(#[$meta:meta])* $name:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty = $key:literal, )* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: Option<$ty>, )*
            /// The members this crate does not know, kept as they came and written back.
            pub extra: Map<String, Value>,
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                $( if let Some(value) = &self.$field { map.serialize_entry($key, value)?; } )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ContentVisitor;
                impl<'de> Visitor<'de> for ContentVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("the content of a message element (", stringify!($name), ")"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        const KEYS: &[&str] = &[$($key),*];
                        // The fields read so far, one bit each.
                        let mut seen = 0u32;
                        while let Some(key) = map.next_key::<crate::parse::Key<'de>>()? {
                            match key.as_str() {
                                $( $key => {
                                    const BIT: u32 = 1 << index_of(KEYS, $key);
                                    if seen & BIT != 0 {
                                        return Err(de::Error::duplicate_field($key));
                                    }
                                    seen |= BIT;
                                    out.$field = map.next_value_seed(Lenient::<$ty>(PhantomData))?;
                                } )*
                                other => {
                                    let value = map.next_value::<Value>()?;
                                    if out.extra.insert(other.to_owned(), value).is_some() {
                                        return Err(de::Error::custom("a member is given twice"));
                                    }
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(ContentVisitor)
            }
        }
    };
}

/// Where `key` is in `keys` (at compile time; a content type has at most 32 fields).
const fn index_of(keys: &[&str], key: &str) -> usize {
    let mut i = 0;
    while i < keys.len() {
        let (a, b) = (keys[i].as_bytes(), key.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a key of this content type")
}

/// How a content field is read: strings and lists as they are, numbers as numbers or numeric
/// strings; `null` is absent.
trait Field: Sized {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error>;
}

impl Field for String {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        Option::<String>::deserialize(deserializer)
    }
}

impl Field for Vec<ImageInfo> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        Option::<Vec<ImageInfo>>::deserialize(deserializer)
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
                crate::lenient::opt_int(deserializer)
            }
        }
    )*};
}
int_field!(u32, u64, i64);

impl Field for f64 {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        crate::lenient::opt_float(deserializer)
    }
}

/// The seed reading one field by its [`Field`] rule.
struct Lenient<T>(PhantomData<T>);

impl<'de, T: Field> DeserializeSeed<'de> for Lenient<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        T::read(deserializer)
    }
}

content! {
    /// `TIMTextElem`'s content.
    TextElem {
        /// `Text`: the message text.
        text: String = "Text",
    }
}

content! {
    /// `TIMFaceElem`'s content: an emoji.
    FaceElem {
        /// `Index`: the emoji's index, defined by the app.
        index: i64 = "Index",
        /// `Data`: extra data, defined by the app.
        data: String = "Data",
    }
}

content! {
    /// `TIMLocationElem`'s content.
    LocationElem {
        /// `Desc`: a description of the place.
        desc: String = "Desc",
        /// `Latitude`.
        latitude: f64 = "Latitude",
        /// `Longitude`.
        longitude: f64 = "Longitude",
    }
}

content! {
    /// `TIMCustomElem`'s content: app-defined data (not moderated by Tencent's filters).
    CustomElem {
        /// `Data`: the custom payload.
        data: String = "Data",
        /// `Desc`: the text an offline push shows.
        desc: String = "Desc",
        /// `Ext`: the extension field of an offline push.
        ext: String = "Ext",
        /// `Sound`: the sound of an offline push.
        sound: String = "Sound",
    }
}

content! {
    /// `TIMImageElem`'s content.
    ImageElem {
        /// `UUID`: the image's id.
        uuid: String = "UUID",
        /// `ImageFormat`: 1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other.
        image_format: u32 = "ImageFormat",
        /// `ImageInfoArray`: the original, large and thumbnail versions.
        image_info_array: Vec<ImageInfo> = "ImageInfoArray",
    }
}

content! {
    /// One version of an image (`ImageInfoArray`'s entries).
    ImageInfo {
        /// `Type`: 1 original, 2 large, 3 thumbnail.
        kind: u32 = "Type",
        /// `Size`: bytes.
        size: u64 = "Size",
        /// `Width`: pixels.
        width: u32 = "Width",
        /// `Height`: pixels.
        height: u32 = "Height",
        /// `URL`: where to download it.
        url: String = "URL",
    }
}

content! {
    /// `TIMSoundElem`'s content: a voice message.
    SoundElem {
        /// `Url`: where to download it.
        url: String = "Url",
        /// `UUID`: the sound's id.
        uuid: String = "UUID",
        /// `Size`: bytes.
        size: u64 = "Size",
        /// `Second`: its length in seconds.
        second: u32 = "Second",
        /// `Download_Flag`: 2 means it is downloaded from `Url`.
        download_flag: u32 = "Download_Flag",
    }
}

content! {
    /// `TIMFileElem`'s content.
    FileElem {
        /// `Url`: where to download it.
        url: String = "Url",
        /// `UUID`: the file's id.
        uuid: String = "UUID",
        /// `FileSize`: bytes.
        file_size: u64 = "FileSize",
        /// `FileName`.
        file_name: String = "FileName",
        /// `Download_Flag`: 2 means it is downloaded from `Url`.
        download_flag: u32 = "Download_Flag",
    }
}

content! {
    /// `TIMVideoFileElem`'s content: a video and its thumbnail.
    VideoFileElem {
        /// `VideoUrl`.
        video_url: String = "VideoUrl",
        /// `VideoUUID`.
        video_uuid: String = "VideoUUID",
        /// `VideoSize`: bytes.
        video_size: u64 = "VideoSize",
        /// `VideoSecond`: its length in seconds.
        video_second: u32 = "VideoSecond",
        /// `VideoFormat`: `mp4`, …
        video_format: String = "VideoFormat",
        /// `VideoDownloadFlag`: 2 means it is downloaded from `VideoUrl`.
        video_download_flag: u32 = "VideoDownloadFlag",
        /// `ThumbUrl`.
        thumb_url: String = "ThumbUrl",
        /// `ThumbUUID`.
        thumb_uuid: String = "ThumbUUID",
        /// `ThumbSize`: bytes.
        thumb_size: u64 = "ThumbSize",
        /// `ThumbWidth`: pixels.
        thumb_width: u32 = "ThumbWidth",
        /// `ThumbHeight`: pixels.
        thumb_height: u32 = "ThumbHeight",
        /// `ThumbFormat`: `JPG`, …
        thumb_format: String = "ThumbFormat",
        /// `ThumbDownloadFlag`: 2 means it is downloaded from `ThumbUrl`.
        thumb_download_flag: u32 = "ThumbDownloadFlag",
    }
}

impl Serialize for MsgElement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("MsgType", self.msg_type())?;
        match self {
            Self::Text(c) => map.serialize_entry("MsgContent", c)?,
            Self::Face(c) => map.serialize_entry("MsgContent", c)?,
            Self::Location(c) => map.serialize_entry("MsgContent", c)?,
            Self::Custom(c) => map.serialize_entry("MsgContent", c)?,
            Self::Image(c) => map.serialize_entry("MsgContent", c)?,
            Self::Sound(c) => map.serialize_entry("MsgContent", c)?,
            Self::VideoFile(c) => map.serialize_entry("MsgContent", c)?,
            Self::File(c) => map.serialize_entry("MsgContent", c)?,
            Self::Unknown { content, .. } => map.serialize_entry("MsgContent", content)?,
        }
        map.end()
    }
}

/// The known `MsgType`s (`None`: kept as [`MsgElement::Unknown`]).
#[derive(Clone, Copy)]
enum Known {
    Text,
    Face,
    Location,
    Custom,
    Image,
    Sound,
    VideoFile,
    File,
}

fn known(msg_type: &str) -> Option<Known> {
    Some(match msg_type {
        "TIMTextElem" => Known::Text,
        "TIMFaceElem" => Known::Face,
        "TIMLocationElem" => Known::Location,
        "TIMCustomElem" => Known::Custom,
        "TIMImageElem" => Known::Image,
        "TIMSoundElem" => Known::Sound,
        "TIMVideoFileElem" => Known::VideoFile,
        "TIMFileElem" => Known::File,
        _ => return None,
    })
}

/// Builds the element from `MsgType` and a content that came before it (kept as a `Value`).
fn element<E: de::Error>(msg_type: String, content: Value) -> Result<MsgElement, E> {
    fn typed<T: de::DeserializeOwned, E: de::Error>(content: Value) -> Result<T, E> {
        T::deserialize(content).map_err(E::custom)
    }
    Ok(match known(&msg_type) {
        Some(Known::Text) => MsgElement::Text(typed(content)?),
        Some(Known::Face) => MsgElement::Face(Box::new(typed(content)?)),
        Some(Known::Location) => MsgElement::Location(Box::new(typed(content)?)),
        Some(Known::Custom) => MsgElement::Custom(Box::new(typed(content)?)),
        Some(Known::Image) => MsgElement::Image(Box::new(typed(content)?)),
        Some(Known::Sound) => MsgElement::Sound(Box::new(typed(content)?)),
        Some(Known::VideoFile) => MsgElement::VideoFile(Box::new(typed(content)?)),
        Some(Known::File) => MsgElement::File(Box::new(typed(content)?)),
        None => MsgElement::Unknown { msg_type, content },
    })
}

impl<'de> Deserialize<'de> for MsgElement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = MsgElement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message element {MsgType, MsgContent}")
    }

    // Tencent writes `MsgType` first: then the content is read straight into its type. When the
    // content comes first it is kept as a `Value` until the type is known.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MsgElement, A::Error> {
        let mut msg_type: Option<crate::parse::Key<'de>> = None;
        let mut element_read: Option<MsgElement> = None;
        let mut pending: Option<Value> = None;
        while let Some(key) = map.next_key::<crate::parse::Key<'de>>()? {
            match key.as_str() {
                "MsgType" => {
                    if msg_type.is_some() {
                        return Err(de::Error::duplicate_field("MsgType"));
                    }
                    msg_type = Some(map.next_value::<crate::parse::Key<'de>>()?);
                }
                "MsgContent" => {
                    if element_read.is_some() || pending.is_some() {
                        return Err(de::Error::duplicate_field("MsgContent"));
                    }
                    match msg_type.as_ref().map(|t| known(t.as_str())) {
                        Some(Some(kind)) => element_read = Some(read_known(kind, &mut map)?),
                        _ => pending = Some(map.next_value::<Value>()?),
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let msg_type = msg_type.ok_or_else(|| de::Error::missing_field("MsgType"))?;
        match element_read {
            Some(element) => Ok(element),
            None => element(msg_type.as_str().to_owned(), pending.unwrap_or(Value::Null)),
        }
    }
}

fn read_known<'de, A: MapAccess<'de>>(kind: Known, map: &mut A) -> Result<MsgElement, A::Error> {
    Ok(match kind {
        Known::Text => MsgElement::Text(map.next_value()?),
        Known::Face => MsgElement::Face(Box::new(map.next_value()?)),
        Known::Location => MsgElement::Location(Box::new(map.next_value()?)),
        Known::Custom => MsgElement::Custom(Box::new(map.next_value()?)),
        Known::Image => MsgElement::Image(Box::new(map.next_value()?)),
        Known::Sound => MsgElement::Sound(Box::new(map.next_value()?)),
        Known::VideoFile => MsgElement::VideoFile(Box::new(map.next_value()?)),
        Known::File => MsgElement::File(Box::new(map.next_value()?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_element_reads_and_writes_back() {
        let body = r#"[
            {"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}},
            {"MsgType":"TIMFaceElem","MsgContent":{"Index":3,"Data":"smile"}},
            {"MsgType":"TIMLocationElem","MsgContent":{"Desc":"office","Latitude":22.5,"Longitude":113.9}},
            {"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\"k\":1}","Desc":"d","Ext":"e","Sound":"s.mp3"}},
            {"MsgType":"TIMImageElem","MsgContent":{"UUID":"u1","ImageFormat":1,"ImageInfoArray":[{"Type":1,"Size":10,"Width":2,"Height":3,"URL":"https://img/1"}]}},
            {"MsgType":"TIMSoundElem","MsgContent":{"Url":"https://s","UUID":"u2","Size":99,"Second":4,"Download_Flag":2}},
            {"MsgType":"TIMVideoFileElem","MsgContent":{"VideoUrl":"https://v","VideoUUID":"u3","VideoSize":7,"VideoSecond":5,"VideoFormat":"mp4","VideoDownloadFlag":2,"ThumbUrl":"https://t","ThumbUUID":"u4","ThumbSize":6,"ThumbWidth":8,"ThumbHeight":9,"ThumbFormat":"JPG","ThumbDownloadFlag":2}},
            {"MsgType":"TIMFileElem","MsgContent":{"Url":"https://f","UUID":"u5","FileSize":11,"FileName":"a.pdf","Download_Flag":2}}
        ]"#;
        let elements: Vec<MsgElement> = serde_json::from_str(body).unwrap();
        assert_eq!(elements.len(), 8);
        assert_eq!(elements[0].as_text(), Some("hi"));
        let MsgElement::Face(face) = &elements[1] else {
            panic!("{:?}", elements[1])
        };
        assert_eq!((face.index, face.data.as_deref()), (Some(3), Some("smile")));
        let MsgElement::Location(place) = &elements[2] else {
            panic!()
        };
        assert_eq!(
            (place.desc.as_deref(), place.latitude, place.longitude),
            (Some("office"), Some(22.5), Some(113.9))
        );
        let MsgElement::Custom(custom) = &elements[3] else {
            panic!()
        };
        assert_eq!(
            (
                custom.data.as_deref(),
                custom.desc.as_deref(),
                custom.ext.as_deref(),
                custom.sound.as_deref()
            ),
            (Some("{\"k\":1}"), Some("d"), Some("e"), Some("s.mp3"))
        );
        let MsgElement::Image(image) = &elements[4] else {
            panic!()
        };
        assert_eq!(
            (image.uuid.as_deref(), image.image_format),
            (Some("u1"), Some(1))
        );
        let info = &image.image_info_array.as_ref().unwrap()[0];
        assert_eq!(
            (
                info.kind,
                info.size,
                info.width,
                info.height,
                info.url.as_deref()
            ),
            (Some(1), Some(10), Some(2), Some(3), Some("https://img/1"))
        );
        let MsgElement::Sound(sound) = &elements[5] else {
            panic!()
        };
        assert_eq!(
            (
                sound.url.as_deref(),
                sound.uuid.as_deref(),
                sound.size,
                sound.second,
                sound.download_flag
            ),
            (Some("https://s"), Some("u2"), Some(99), Some(4), Some(2))
        );
        let MsgElement::VideoFile(video) = &elements[6] else {
            panic!()
        };
        assert_eq!(
            (
                video.video_url.as_deref(),
                video.video_uuid.as_deref(),
                video.video_size,
                video.video_second,
                video.video_format.as_deref(),
                video.video_download_flag
            ),
            (
                Some("https://v"),
                Some("u3"),
                Some(7),
                Some(5),
                Some("mp4"),
                Some(2)
            )
        );
        assert_eq!(
            (
                video.thumb_url.as_deref(),
                video.thumb_uuid.as_deref(),
                video.thumb_size,
                video.thumb_width,
                video.thumb_height,
                video.thumb_format.as_deref(),
                video.thumb_download_flag
            ),
            (
                Some("https://t"),
                Some("u4"),
                Some(6),
                Some(8),
                Some(9),
                Some("JPG"),
                Some(2)
            )
        );
        let MsgElement::File(file) = &elements[7] else {
            panic!()
        };
        assert_eq!(
            (
                file.url.as_deref(),
                file.uuid.as_deref(),
                file.file_name.as_deref(),
                file.file_size,
                file.download_flag
            ),
            (
                Some("https://f"),
                Some("u5"),
                Some("a.pdf"),
                Some(11),
                Some(2)
            )
        );
        let types: Vec<&str> = elements.iter().map(MsgElement::msg_type).collect();
        assert_eq!(
            types,
            [
                "TIMTextElem",
                "TIMFaceElem",
                "TIMLocationElem",
                "TIMCustomElem",
                "TIMImageElem",
                "TIMSoundElem",
                "TIMVideoFileElem",
                "TIMFileElem"
            ]
        );
        // Written back, every element is the one Tencent sent: the same JSON value.
        let written: Value = serde_json::to_value(&elements).unwrap();
        assert_eq!(written, serde_json::from_str::<Value>(body).unwrap());
    }

    #[test]
    fn a_rewrite_keeps_what_it_does_not_touch() {
        // Unknown members, absent numbers, numbers as strings: written back as they came.
        let body = r#"{"MsgType":"TIMImageElem","MsgContent":{"UUID":"u","ImageFormat":"1",
            "ImageInfoArray":[{"Type":1,"URL":"x","NewField":"keep me"}],"Extra":7}}"#;
        let element: MsgElement = serde_json::from_str(body).unwrap();
        let MsgElement::Image(image) = &element else {
            panic!()
        };
        assert_eq!(
            (image.image_format, image.extra["Extra"].clone()),
            (Some(1), Value::from(7))
        );
        assert_eq!(
            serde_json::to_string(&element).unwrap(),
            r#"{"MsgType":"TIMImageElem","MsgContent":{"UUID":"u","ImageFormat":1,"ImageInfoArray":[{"Type":1,"URL":"x","NewField":"keep me"}],"Extra":7}}"#
        );
        let place: MsgElement = serde_json::from_str(
            r#"{"MsgType":"TIMLocationElem","MsgContent":{"Latitude":"22.5","Longitude":null}}"#,
        )
        .unwrap();
        let MsgElement::Location(place) = place else {
            panic!()
        };
        assert_eq!(
            (place.latitude, place.longitude, place.desc),
            (Some(22.5), None, None)
        );
        for bad in [
            r#"{"Latitude":"north"}"#,
            r#"{"Latitude":"1e999"}"#,
            r#"{"Latitude":true}"#,
        ] {
            assert!(serde_json::from_str::<LocationElem>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<TextElem>(r#"{"Text":"a","Text":"b"}"#).is_err());
        assert!(serde_json::from_str::<TextElem>(r#"{"X":1,"X":2}"#).is_err());
    }

    #[test]
    fn content_before_type_and_unknown_elements_are_read_too() {
        let e: MsgElement =
            serde_json::from_str(r#"{"MsgContent":{"Text":"late"},"MsgType":"TIMTextElem"}"#)
                .unwrap();
        assert_eq!(e.as_text(), Some("late"));
        let e: MsgElement = serde_json::from_str(
            r#"{"MsgType":"TIMRelayElem","MsgContent":{"Title":"t","MsgNum":2},"Extra":1}"#,
        )
        .unwrap();
        let MsgElement::Unknown { msg_type, content } = &e else {
            panic!()
        };
        assert_eq!(
            (msg_type.as_str(), &content["MsgNum"]),
            ("TIMRelayElem", &Value::from(2))
        );
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"MsgType":"TIMRelayElem","MsgContent":{"MsgNum":2,"Title":"t"}}"#
        );
        let e: MsgElement = serde_json::from_str(r#"{"MsgType":"TIMNewElem"}"#).unwrap();
        assert_eq!(
            e,
            MsgElement::Unknown {
                msg_type: "TIMNewElem".into(),
                content: Value::Null
            }
        );
        // Unknown fields inside a known element are ignored.
        let e: MsgElement = serde_json::from_str(
            r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"a","New":true}}"#,
        )
        .unwrap();
        assert_eq!(e.as_text(), Some("a"));
    }

    #[test]
    fn broken_elements_are_errors() {
        for bad in [
            r#"{"MsgContent":{"Text":"x"}}"#,
            r#"{"MsgType":"TIMTextElem","MsgType":"TIMFaceElem","MsgContent":{}}"#,
            r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"},"MsgContent":{"Text":"b"}}"#,
            r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":5}}"#,
            r#"{"MsgContent":{"Text":5},"MsgType":"TIMTextElem"}"#,
            r#"{"MsgType":7,"MsgContent":{}}"#,
            r#"[1]"#,
        ] {
            assert!(serde_json::from_str::<MsgElement>(bad).is_err(), "{bad}");
        }
    }
}
