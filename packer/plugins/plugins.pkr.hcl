# Plugin requirements for modern Packer (1.7 and later): `packer init packer/plugins`, then build
# packer/ as usual. Kept apart from the template because Debian's Packer 1.6.6 rejects this block.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
