//! `hedui-model`: the words of the domain, exact.
//!
//! The root of the hedui workspace (核对: household economic-status
//! verification). Every other crate speaks in these types:
//!
//! - [`IdNumber`]: 公民身份号码 per GB 11643-1999, parsed from what
//!   departments really send (15-digit legacy numbers upgraded, full-width,
//!   lower-case `x`, spaces), with a typed reason when invalid;
//! - [`PersonName`]: a name's raw text, its normal form (width, spaces,
//!   middle dots, traditional → simplified) and pinyin keys;
//! - [`Fen`]: money in fen, `i64`, parsed exactly from decimals, never a
//!   float;
//! - [`Month`] and [`Date`]: the months of monthly records and calendar
//!   dates;
//! - [`codes`]: the code lists of the input contract with Chinese labels.
//!
//! No I/O, no async, no Arrow: this crate is pure and cheap to build.
//!
//! ```
//! use hedui_model::{Fen, IdNumber, PersonName};
//!
//! let id = IdNumber::parse("110105491231002").id().unwrap(); // legacy, upgraded
//! assert_eq!(id.as_str(), "11010519491231002X");
//! assert_eq!(PersonName::new("張 偉").normal(), "张伟");
//! assert_eq!(Fen::parse_yuan("1234.5").unwrap(), Fen(123450));
//! ```

pub mod codes;
pub mod id;
pub mod money;
pub mod name;
pub mod time;

pub use codes::CodeList;
pub use id::{IdForm, IdGender, IdInvalid, IdNumber, ParsedId};
pub use money::{Fen, MoneyError};
pub use name::PersonName;
pub use time::{Date, DateError, Month};
