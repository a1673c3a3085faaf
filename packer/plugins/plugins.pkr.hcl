# Plugin requirements for modern Packer (1.7 and later): `packer init packer/plugins`, then build
# packer/ as usual. Kept apart from the template because Debian's Packer 1.6.6 rejects this block.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      # 1.4.0 tags the temporary key pair, security group, image and snapshot in their creating
      # calls, and copies the image's tags to the encrypted copy: the bake role relies on both.
      version = ">= 1.4.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
